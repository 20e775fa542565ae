#include "api/audit.h"

#include <boost/json.hpp>

#include "api/handler.h"
#include "api/json_body.h"
#include "api/schemas.h"
#include "audit/audit_log.h"
#include "core/ids.h"
#include "core/strings.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using net::http::verb;

namespace {

// The filters of ?user (an id or an email), method, path_prefix, status, since, until (RFC 3339
// or epoch milliseconds); an error per bad value.
audit::AuditQuery read_filters(const net::Exchange& ex, std::vector<net::FieldError>& errors) {
  audit::AuditQuery q;
  if (auto u = ex.query("user")) {
    if (auto id = parse_int<int64_t>(*u, 1)) {
      q.user_id = id;
    } else {
      q.user_email = *u;
    }
  }
  q.method = ex.query("method");
  q.path_prefix = ex.query("path_prefix");
  if (auto s = ex.query("status")) {
    q.status = parse_int<int>(*s, 100, 599);
    if (!q.status) errors.push_back({"status", "must be an HTTP status code"});
  }
  for (auto [name, bound] : {std::pair{"since", &q.since}, std::pair{"until", &q.until}}) {
    if (auto t = ex.query(name)) {
      *bound = parse_timestamp(*t);
      if (!*bound) errors.push_back({name, "must be RFC 3339 or epoch milliseconds"});
    }
  }
  return q;
}

// The page's JSON, written from each record's own JSON without building a DOM.
std::string page_json(const audit::AuditPage& page) {
  std::string body = "{\"items\":[";
  for (size_t i = 0; i < page.items.size(); ++i) {
    if (i) body += ',';
    body += audit::audit_record_json(page.items[i]);
  }
  body += "],\"next_cursor\":";
  body += page.next_before ? "\"" + encode_cursor(*page.next_before) + "\"" : std::string("null");
  body += "}";
  return body;
}

class AuditHandlers {
 public:
  explicit AuditHandlers(AuditDeps d) : d_(d) {}

  void list(const ExchangePtr& ex) const {
    auto page = read_page(*ex);
    if (!page) return;
    std::vector<net::FieldError> errors;
    audit::AuditQuery q = read_filters(*ex, errors);
    if (!errors.empty()) {
      return ex->respond_problem(status::unprocessable_entity, "invalid filters", errors);
    }
    q.limit = page->limit;
    q.before_id = page->cursor;
    off_io(*d_.blocking, ex, [db = d_.db, q = std::move(q)](net::Exchange& ex) {
      auto result = audit::query_audit(*db, q);
      if (!result.ok()) return respond_status(ex, result.status());
      ex.respond_json_text(status::ok, page_json(*result));
    });
  }

 private:
  AuditDeps d_;
};

net::RouteSpec list_spec() {
  // Every field is always there (the console's types rely on it); user is null for calls
  // without a signed-in caller.
  json::value user = object_schema({{"id", "integer"}, {"email", "string"}}, {"id", "email"});
  user.as_object()["type"] = json::array{"object", "null"};
  json::value record = object_schema({{"id", "integer"},
                                      {"at", "string"},
                                      {"request_id", "string"},
                                      {"method", "string"},
                                      {"path", "string"},
                                      {"status", "integer"},
                                      {"latency_us", "integer"},
                                      {"bytes_in", "integer"},
                                      {"bytes_out", "integer"},
                                      {"ip", "string"}},
                                     {"id", "at", "request_id", "user", "method", "path", "status",
                                      "latency_us", "bytes_in", "bytes_out", "ip"});
  json::object& props = record.as_object()["properties"].as_object();
  props["at"].as_object()["format"] = "date-time";
  props["user"] = std::move(user);
  auto params = page_params();
  for (auto [name, description] : {
           std::pair{"user", "The caller: a user id or an email"},
           std::pair{"method", "HTTP method in capitals, such as GET"},
           std::pair{"path_prefix", "Paths that start with this"},
           std::pair{"status", "HTTP status code"},
           std::pair{"since", "At or after (RFC 3339 or epoch milliseconds)"},
           std::pair{"until", "Before (RFC 3339 or epoch milliseconds)"},
       }) {
    params.push_back({name, "query", description});
  }
  return {.operation_id = "listAudit",
          .summary =
              "Every API call, newest first; filter by user (id or email), method, "
              "path_prefix, status, since, until (RFC 3339 or epoch ms)",
          .tag = "audit",
          .action = "audit.read",
          .params = std::move(params),
          .responses = {{200, "A page of audit records", list_schema(std::move(record))}}};
}

}  // namespace

void add_audit_routes(net::Router& router, AuditDeps deps) {
  auto h = std::make_shared<const AuditHandlers>(deps);
  router.add(verb::get, "/api/v1/audit", list_spec(), bind(h, &AuditHandlers::list));
}

}  // namespace vigil::api
