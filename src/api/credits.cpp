#include "api/credits.h"

#include <boost/json.hpp>

#include <cmath>

#include "api/fleet_json.h"
#include "api/handler.h"
#include "api/json_body.h"
#include "api/schemas.h"
#include "core/json_text.h"
#include "core/strings.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using net::http::verb;
using tasks::credits_from_milli;

json::object account_json(const tasks::Account& a) {
  return {{"user", a.user_id},
          {"balance", credits_from_milli(a.balance)},
          {"held", credits_from_milli(a.held)},
          {"available", credits_from_milli(a.available())}};
}

void respond_short(net::Exchange& ex, const tasks::Taken& t) {
  auto res = net::make_problem(
      status::payment_required,
      "not enough credits: this costs " + json_text(json::value(credits_from_milli(t.cost))) +
          ", " + json_text(json::value(credits_from_milli(t.account.available()))) + " available");
  // The problem document plus what the client needs to act: the balance and the cost.
  boost::system::error_code ec;
  json::value body = parse_json(res.body(), ec);
  if (!ec && body.is_object()) {
    auto& o = body.as_object();
    o["balance"] = credits_from_milli(t.account.balance);
    o["available"] = credits_from_milli(t.account.available());
    o["cost"] = credits_from_milli(t.cost);
    res.body() = json_text(body);
    res.prepare_payload();
  }
  ex.respond(std::move(res));
}

int64_t prediction_cost(double price_per_row, size_t rows) {
  if (!(price_per_row > 0)) return 0;
  return std::llround(price_per_row * 1000.0 * static_cast<double>(rows));
}

void charge_then(const CreditDeps& d, const ExchangePtr& ex, int64_t cost, std::string what,
                 std::function<void(std::function<void()> refund)> run) {
  if (cost <= 0 || !d.ledger) return run([] {});
  off_io(*d.blocking, ex,
         [d, ex, cost, what = std::move(what), run = std::move(run)](net::Exchange&) mutable {
           const int64_t user = ex->principal()->user_id;
           auto t = d.ledger->charge(user, cost, what);
           if (!t.ok()) return respond_status(*ex, t.status());
           if (!t->ok) return respond_short(*ex, *t);
           run([d, user, cost, what] {
             d.blocking->post([d, user, cost, what] {
               auto r = d.ledger->adjust(user, cost, "refund: " + what + " failed", 0);
               if (!r.ok()) {
                 spdlog::error("credits: refunding {} milli-credits to user {} failed: {}", cost,
                               user, r.status().to_string());
               }
             });
           });
         });
}

namespace {

json::object entry_json(const tasks::Entry& e) {
  return {{"id", e.id},
          {"at", e.at},
          {"amount", credits_from_milli(e.amount)},
          {"balance_after", credits_from_milli(e.balance_after)},
          {"reason", e.reason},
          {"task_id", e.task_id ? json::value(*e.task_id) : json::value(nullptr)},
          {"by", e.by_user ? json::value(*e.by_user) : json::value(nullptr)}};
}

class CreditHandlers {
 public:
  explicit CreditHandlers(CreditDeps d) : d_(d) {}

  void balance(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      auto a = d.ledger->account(ex.principal()->user_id);
      if (!a.ok()) return respond_status(ex, a.status());
      ex.respond_json(status::ok, account_json(*a));
    });
  }

  // Own entries; an admin reads anyone's with ?user=ID.
  void transactions(const ExchangePtr& ex) const {
    auto page = read_page(*ex);
    if (!page) return;
    int64_t user = ex->principal()->user_id;
    if (auto u = ex->query("user")) {
      auto id = parse_int<int64_t>(*u, 1);
      if (!id) {
        return ex->respond_problem(status::unprocessable_entity, "invalid query parameters",
                                   {{"user", "must be a user id"}});
      }
      if (*id != user && ex->principal()->role != "admin") {
        return ex->respond_problem(status::forbidden, "only admins read other users' credits");
      }
      user = *id;
    }
    off_io(*d_.blocking, ex, [d = d_, user, page = *page](net::Exchange& ex) {
      auto list = d.ledger->entries(user, page.limit, page.cursor.value_or(0));
      if (!list.ok()) return respond_status(ex, list.status());
      respond_list(ex, *list, page.limit, entry_json, [](const tasks::Entry& e) { return e.id; });
    });
  }

  // {amount: credits (negative: a correction), reason}
  void adjust(const ExchangePtr& ex) const {
    auto id = parse_int<int64_t>(ex->param("id"), 1);
    if (!id) return ex->respond_problem(status::not_found, "no such user");
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    f.reject_unknown({"amount", "reason"});
    std::string reason = f.required_string("reason");
    if (reason.empty() && f.ok()) f.add("reason", "say why (it is kept in the ledger)");
    int64_t amount = 0;
    const json::value* a = body->if_contains("amount");
    if (!a || !a->is_number()) {
      f.add("amount", "required: a number of credits (negative for a correction)");
    } else {
      auto milli = tasks::milli_from_credits(a->to_number<double>());
      if (!milli.ok())
        f.add("amount", milli.status().message());
      else
        amount = *milli;
    }
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, user = *id, amount, reason](net::Exchange& ex) {
      auto e = d.ledger->adjust(user, amount, reason, ex.principal()->user_id);
      if (!e.ok()) return respond_status(ex, e.status());
      respond_created(ex, "/api/v1/credits/transactions?user=" + std::to_string(user),
                      entry_json(*e));
    });
  }

 private:
  CreditDeps d_;
};

json::value credits_schema() {
  return all_required(
      {{"type", "object"},
       {"properties",
        {{"user", {{"type", "integer"}}},
         {"balance", {{"type", "number"}, {"description", "credits (3 decimals)"}}},
         {"held", {{"type", "number"}, {"description", "set aside for queued or running tasks"}}},
         {"available", {{"type", "number"}, {"description", "balance - held"}}}}}});
}

json::value entry_schema() {
  return all_required({{"type", "object"},
                       {"properties",
                        {{"id", {{"type", "integer"}}},
                         {"at", {{"type", "string"}}},
                         {"amount", {{"type", "number"}}},
                         {"balance_after", {{"type", "number"}}},
                         {"reason", {{"type", "string"}}},
                         {"task_id", {{"type", json::array{"integer", "null"}}}},
                         {"by", {{"type", json::array{"integer", "null"}}}}}}});
}

}  // namespace

void add_credit_routes(net::Router& router, CreditDeps deps) {
  auto h = std::make_shared<const CreditHandlers>(deps);
  router.add(verb::get, "/api/v1/credits",
             {.operation_id = "getCredits",
              .summary = "The caller's credits: balance, held for tasks, available",
              .tag = "credits",
              .action = "credits.read",
              .responses = {{200, "The caller's credits", credits_schema()}}},
             bind(h, &CreditHandlers::balance));
  auto params = page_params();
  params.push_back({"user", "query", "Admins: this user's ledger (default: the caller's)"});
  router.add(verb::get, "/api/v1/credits/transactions",
             {.operation_id = "listCreditTransactions",
              .summary = "Ledger entries, newest first: every change of the balance",
              .tag = "credits",
              .action = "credits.read",
              .params = std::move(params),
              .responses = {{200, "A page of entries", list_schema(entry_schema())},
                            problem_response(403, "Another user's ledger, not as an admin"),
                            problem_response(404, "No such user")}},
             bind(h, &CreditHandlers::transactions));
  router.add(verb::post, "/api/v1/users/{id}/credits",
             {.operation_id = "adjustCredits",
              .summary = "Top up (amount > 0) or correct (amount < 0) a user's credits",
              .tag = "credits",
              .action = "credits.write",
              .request_schema =
                  object_schema({{"amount", "number"}, {"reason", "string"}}, {"amount", "reason"}),
              .responses = {{201, "The ledger entry", entry_schema()},
                            problem_response(404, "No such user"),
                            problem_response(409,
                                             "A correction would take credits the user "
                                             "does not have, or has held")}},
             bind(h, &CreditHandlers::adjust));
}

}  // namespace vigil::api
