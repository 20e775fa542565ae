#include "tasks/ledger.h"

#include <cmath>

#include "core/ids.h"

namespace vigil::tasks {
using store::Value;

namespace {

constexpr size_t kMaxReason = 1024;

Status check_reason(const std::string& reason) {
  if (reason.size() > kMaxReason) return invalid_field("reason", "at most 1024 characters");
  return {};
}

Expected<bool> user_exists(store::Session& s, int64_t user_id) {
  Value p(user_id);
  auto rows = s.query("SELECT 1 FROM users WHERE id = $1", std::span(&p, 1));
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

Expected<Account> account_in(store::Session& s, int64_t user_id) {
  Value p(user_id);
  auto rows =
      s.query("SELECT balance, held FROM credit_accounts WHERE user_id = $1", std::span(&p, 1));
  if (!rows.ok()) return rows.status();
  Account a{.user_id = user_id};
  if (!rows->empty()) {
    a.balance = rows->get_int(0, 0);
    a.held = rows->get_int(0, 1);
  }
  return a;
}

// Makes sure the user has an account row (a user who was never credited has none).
Status ensure_account(store::Session& s, int64_t user_id) {
  Value p(user_id);
  return s
      .exec(
          "INSERT INTO credit_accounts (user_id, balance, held) VALUES ($1, 0, 0) "
          "ON CONFLICT (user_id) DO NOTHING",
          std::span(&p, 1))
      .status();
}

Expected<Entry> add_entry(store::Session& s, Entry e) {
  std::vector<Value> p{e.user_id,
                       e.at,
                       e.amount,
                       e.balance_after,
                       e.reason,
                       e.task_id ? Value(*e.task_id) : Value(std::monostate{}),
                       e.by_user ? Value(*e.by_user) : Value(std::monostate{})};
  auto rows = s.query(
      "INSERT INTO credit_ledger (user_id, at, amount, balance_after, reason, task_id, by_user) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
      p);
  if (!rows.ok()) return rows.status();
  e.id = rows->get_int(0, 0);
  return e;
}

// Takes `amount` from what is not held, or nothing: whether it did, and the account after.
Expected<Taken> take(store::Session& s, int64_t user_id, int64_t amount, bool hold) {
  std::vector<Value> p{amount, user_id};
  auto changed = s.exec(hold ? "UPDATE credit_accounts SET held = held + $1 WHERE user_id = $2 "
                               "AND balance - held >= $1"
                             : "UPDATE credit_accounts SET balance = balance - $1 WHERE user_id = "
                               "$2 AND balance - held >= $1",
                        p);
  if (!changed.ok()) return changed.status();
  auto a = account_in(s, user_id);
  if (!a.ok()) return a.status();
  return Taken{.ok = *changed == 1, .account = *a, .cost = amount};
}

}  // namespace

Ledger::Ledger(store::Database& db, Now now) : db_(db), now_(std::move(now)) {
  if (!now_) now_ = [] { return std::chrono::system_clock::now(); };
}

Expected<Account> Ledger::account(int64_t user_id) {
  return store::read_returning<Account>(db_, [&](store::Session& s) -> Expected<Account> {
    auto exists = user_exists(s, user_id);
    if (!exists.ok()) return exists.status();
    if (!*exists) return not_found("no such user");
    return account_in(s, user_id);
  });
}

Expected<std::vector<Entry>> Ledger::entries(int64_t user_id, int limit, int64_t before_id) {
  using Out = std::vector<Entry>;
  return store::read_returning<Out>(db_, [&](store::Session& s) -> Expected<Out> {
    auto exists = user_exists(s, user_id);
    if (!exists.ok()) return exists.status();
    if (!*exists) return not_found("no such user");
    std::vector<Value> p{user_id, before_id > 0 ? before_id : INT64_MAX,
                         static_cast<int64_t>(limit)};
    auto rows = s.query(
        "SELECT id, at, amount, balance_after, reason, task_id, by_user FROM credit_ledger "
        "WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        p);
    if (!rows.ok()) return rows.status();
    Out out;
    for (size_t i = 0; i < rows->size(); ++i) {
      Entry e{.id = rows->get_int(i, 0),
              .user_id = user_id,
              .at = rows->get_text(i, 1),
              .amount = rows->get_int(i, 2),
              .balance_after = rows->get_int(i, 3),
              .reason = rows->get_text(i, 4)};
      if (!rows->is_null(i, 5)) e.task_id = rows->get_int(i, 5);
      if (!rows->is_null(i, 6)) e.by_user = rows->get_int(i, 6);
      out.push_back(std::move(e));
    }
    return out;
  });
}

Expected<Entry> Ledger::adjust(int64_t user_id, int64_t amount, const std::string& reason,
                               int64_t by_user) {
  if (amount == 0) return invalid_field("amount", "must not be 0");
  VIGIL_RETURN_IF_ERROR(check_reason(reason));
  const std::string at = format_rfc3339(now_());
  return store::write_returning<Entry>(db_, [&](store::Session& s) -> Expected<Entry> {
    auto exists = user_exists(s, user_id);
    if (!exists.ok()) return exists.status();
    if (!*exists) return not_found("no such user");
    VIGIL_RETURN_IF_ERROR(ensure_account(s, user_id));
    if (amount < 0) {
      auto t = take(s, user_id, -amount, false);
      if (!t.ok()) return t.status();
      if (!t->ok) {
        return failed_precondition("the user has " + std::to_string(t->account.available()) +
                                   " milli-credits that are not held; a correction of " +
                                   std::to_string(amount) + " would take more");
      }
      return add_entry(s, {.user_id = user_id,
                           .at = at,
                           .amount = amount,
                           .balance_after = t->account.balance,
                           .reason = reason,
                           .by_user = by_user > 0 ? std::optional(by_user) : std::nullopt});
    }
    std::vector<Value> p{amount, user_id};
    VIGIL_RETURN_IF_ERROR(
        s.exec("UPDATE credit_accounts SET balance = balance + $1 WHERE user_id = $2", p).status());
    auto a = account_in(s, user_id);
    if (!a.ok()) return a.status();
    return add_entry(s, {.user_id = user_id,
                         .at = at,
                         .amount = amount,
                         .balance_after = a->balance,
                         .reason = reason,
                         .by_user = by_user > 0 ? std::optional(by_user) : std::nullopt});
  });
}

Expected<Taken> Ledger::charge(int64_t user_id, int64_t cost, const std::string& reason) {
  if (cost < 0) return invalid_field("cost", "must not be negative");
  VIGIL_RETURN_IF_ERROR(check_reason(reason));
  if (cost == 0) {
    auto a = account(user_id);
    if (!a.ok()) return a.status();
    return Taken{.ok = true, .account = *a, .cost = 0};
  }
  const std::string at = format_rfc3339(now_());
  return store::write_returning<Taken>(db_, [&](store::Session& s) -> Expected<Taken> {
    VIGIL_RETURN_IF_ERROR(ensure_account(s, user_id));
    auto t = take(s, user_id, cost, false);
    if (!t.ok() || !t->ok) return t;
    auto e = add_entry(s, {.user_id = user_id,
                           .at = at,
                           .amount = -cost,
                           .balance_after = t->account.balance,
                           .reason = reason});
    if (!e.ok()) return e.status();
    return t;
  });
}

Expected<Taken> Ledger::hold_in(store::Session& s, int64_t user_id, int64_t task_id, int64_t cost) {
  if (cost < 0) return invalid_field("cost", "must not be negative");
  if (cost == 0) {
    auto a = account_in(s, user_id);
    if (!a.ok()) return a.status();
    return Taken{.ok = true, .account = *a, .cost = 0};
  }
  VIGIL_RETURN_IF_ERROR(ensure_account(s, user_id));
  auto t = take(s, user_id, cost, true);
  if (!t.ok() || !t->ok) return t;
  std::vector<Value> p{task_id, user_id, cost, format_rfc3339(now_())};
  VIGIL_RETURN_IF_ERROR(s.exec("INSERT INTO credit_holds (task_id, user_id, amount, state, at) "
                               "VALUES ($1, $2, $3, 'held', $4)",
                               p)
                            .status());
  return t;
}

Expected<bool> Ledger::settle_in(store::Session& s, int64_t task_id, Settle how,
                                 const std::string& reason) {
  VIGIL_RETURN_IF_ERROR(check_reason(reason));
  // Only the first settle finds the hold 'held': the guarded UPDATE makes it exactly once.
  std::vector<Value> p{std::string(how == Settle::kCharge ? "charged" : "released"), task_id};
  auto rows = s.query(
      "UPDATE credit_holds SET state = $1 WHERE task_id = $2 AND state = 'held' "
      "RETURNING user_id, amount",
      p);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return false;
  const int64_t user_id = rows->get_int(0, 0);
  const int64_t amount = rows->get_int(0, 1);
  std::vector<Value> q{amount, user_id};
  if (how == Settle::kRelease) {
    VIGIL_RETURN_IF_ERROR(
        s.exec("UPDATE credit_accounts SET held = held - $1 WHERE user_id = $2", q).status());
    return true;
  }
  VIGIL_RETURN_IF_ERROR(s.exec("UPDATE credit_accounts SET held = held - $1, balance = balance - "
                               "$1 WHERE user_id = $2",
                               q)
                            .status());
  auto a = account_in(s, user_id);
  if (!a.ok()) return a.status();
  auto e = add_entry(s, {.user_id = user_id,
                         .at = format_rfc3339(now_()),
                         .amount = -amount,
                         .balance_after = a->balance,
                         .reason = reason,
                         .task_id = task_id});
  if (!e.ok()) return e.status();
  return true;
}

Expected<int64_t> milli_from_credits(double credits) {
  if (!std::isfinite(credits) || std::fabs(credits) > 1e12) {
    return invalid_argument("credits must be a finite number of at most 1e12");
  }
  const double milli = credits * 1000.0;
  const double rounded = std::round(milli);
  if (std::fabs(milli - rounded) > 1e-6 * std::max(1.0, std::fabs(milli))) {
    return invalid_argument("credits have at most 3 decimals");
  }
  return static_cast<int64_t>(rounded);
}

double credits_from_milli(int64_t milli) { return static_cast<double>(milli) / 1000.0; }

}  // namespace vigil::tasks
