#include "tasks/task_service.h"

#include <algorithm>

#include "core/ids.h"

namespace vigil::tasks {
using store::Value;

std::string_view to_string(TaskStatus s) {
  switch (s) {
    case TaskStatus::kQueued: return "queued";
    case TaskStatus::kRunning: return "running";
    case TaskStatus::kDone: return "done";
    case TaskStatus::kRejected: return "rejected";
    case TaskStatus::kFailed: return "failed";
    case TaskStatus::kCancelled: return "cancelled";
  }
  return "failed";
}

std::optional<TaskStatus> task_status_from(std::string_view s) {
  for (auto t : {TaskStatus::kQueued, TaskStatus::kRunning, TaskStatus::kDone,
                 TaskStatus::kRejected, TaskStatus::kFailed, TaskStatus::kCancelled}) {
    if (to_string(t) == s) return t;
  }
  return std::nullopt;
}

bool is_finished(TaskStatus s) { return s != TaskStatus::kQueued && s != TaskStatus::kRunning; }

namespace {

constexpr const char* kColumns =
    "id, user_id, model, version, status, input, row_count, cost, created_at, started_at, "
    "finished_at, result, error, attempts, lease_owner, lease_until";

Task task_at(const store::Rows& r, size_t i) {
  Task t;
  t.id = r.get_int(i, 0);
  t.user_id = r.get_int(i, 1);
  t.model = r.get_text(i, 2);
  t.version = r.get_int(i, 3);
  t.status = task_status_from(r.get_text(i, 4)).value_or(TaskStatus::kFailed);
  t.input = r.get_text(i, 5);
  t.rows = r.get_int(i, 6);
  t.cost = r.get_int(i, 7);
  t.created_at = r.get_text(i, 8);
  t.started_at = r.get_text(i, 9);
  t.finished_at = r.get_text(i, 10);
  t.result = r.get_text(i, 11);
  t.error = r.get_text(i, 12);
  t.attempts = static_cast<int>(r.get_int(i, 13));
  t.lease_owner = r.get_text(i, 14);
  t.lease_until = r.get_text(i, 15);
  return t;
}

Expected<std::optional<Task>> task_in(store::Session& s, int64_t id, bool lock, store::Dialect d) {
  Value p(id);
  std::string sql = std::string("SELECT ") + kColumns + " FROM tasks WHERE id = $1";
  if (lock && d == store::Dialect::kPostgres) sql += " FOR UPDATE";
  auto rows = s.query(sql, std::span(&p, 1));
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Task>{};
  return std::optional<Task>(task_at(*rows, 0));
}

// What identifies a request for its Idempotency-Key: the same key with another request is a
// conflict, not a repeat.
std::string request_hash(const NewTask& t) {
  return sha256_hex(t.model + "\n" + std::to_string(t.version) + "\n" + t.input);
}

// Not an error: the transaction is rolled back because the user is short of credits.
const Status kShort{ErrorCode::kResourceExhausted, "short of credits"};

}  // namespace

TaskService::TaskService(store::Database& db, Ledger& ledger, Options options, Now now)
    : db_(db), ledger_(ledger), options_(options), now_(std::move(now)) {
  if (!now_) now_ = [] { return std::chrono::system_clock::now(); };
}

Expected<Submitted> TaskService::submit(const NewTask& t) {
  if (t.idempotency_key.size() > 255) {
    return invalid_field("Idempotency-Key", "at most 255 characters");
  }
  const std::string hash = request_hash(t);
  // An earlier request with the key: the same request is a repeat, another one a conflict.
  auto earlier = [&](store::Session& s) -> Expected<std::optional<Submitted>> {
    if (t.idempotency_key.empty()) return std::optional<Submitted>{};
    std::vector<Value> p{t.user_id, t.idempotency_key};
    auto rows = s.query(std::string("SELECT ") + kColumns +
                            ", request_hash FROM tasks WHERE user_id = $1 AND "
                            "idempotency_key = $2",
                        p);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return std::optional<Submitted>{};
    if (rows->get_text(0, 16) != hash) {
      return conflict("this Idempotency-Key was used for another request");
    }
    return std::optional<Submitted>(
        Submitted{.ok = true, .repeat = true, .task = task_at(*rows, 0)});
  };
  const std::string now = format_rfc3339(now_());
  Taken short_of;
  std::optional<Submitted> out;
  Status st = db_.write([&](store::Session& s) -> Status {
    out.reset();
    auto before = earlier(s);
    if (!before.ok()) return before.status();
    if (*before) {
      out = std::move(*before);
      return {};
    }
    std::vector<Value> p{
        t.user_id,
        t.model,
        t.version,
        t.input,
        t.rows,
        t.cost,
        t.idempotency_key.empty() ? Value(std::monostate{}) : Value(t.idempotency_key),
        t.idempotency_key.empty() ? Value(std::monostate{}) : Value(hash),
        now,
        int64_t{options_.queue_publishes ? 0 : 1}};
    auto rows = s.query(std::string("INSERT INTO tasks (user_id, model, version, status, input, "
                                    "row_count, cost, idempotency_key, request_hash, created_at, "
                                    "dispatched) VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, "
                                    "$9, $10) RETURNING ") +
                            kColumns,
                        p);
    if (!rows.ok()) return rows.status();
    Task task = task_at(*rows, 0);
    auto held = ledger_.hold_in(s, t.user_id, task.id, t.cost);
    if (!held.ok()) return held.status();
    if (!held->ok) {
      short_of = *held;
      return kShort;  // rolls the task back
    }
    out = Submitted{.ok = true, .task = std::move(task)};
    return {};
  });
  if (st.code() == ErrorCode::kResourceExhausted && st.message() == kShort.message()) {
    return Submitted{.ok = false, .short_of = short_of};
  }
  if (st.code() == ErrorCode::kAlreadyExists && !t.idempotency_key.empty()) {
    // Another request with the key committed first: answer as a repeat of it.
    auto again = store::read_returning<std::optional<Submitted>>(db_, earlier);
    if (!again.ok()) return again.status();
    if (*again) return std::move(**again);
  }
  if (!st.ok()) return st;
  return std::move(*out);
}

Expected<Task> TaskService::get(int64_t id) {
  return store::read_returning<Task>(db_, [&](store::Session& s) -> Expected<Task> {
    auto t = task_in(s, id, false, db_.dialect());
    if (!t.ok()) return t.status();
    if (!*t) return not_found("no such task");
    return std::move(**t);
  });
}

Expected<std::vector<Task>> TaskService::list(const TaskFilter& f) {
  using Out = std::vector<Task>;
  return store::read_returning<Out>(db_, [&](store::Session& s) -> Expected<Out> {
    std::string sql = std::string("SELECT ") + kColumns + " FROM tasks WHERE id < $1";
    std::vector<Value> p{f.before_id > 0 ? f.before_id : INT64_MAX};
    if (f.user_id) {
      p.emplace_back(*f.user_id);
      sql += " AND user_id = $" + std::to_string(p.size());
    }
    if (f.status) {
      p.emplace_back(std::string(to_string(*f.status)));
      sql += " AND status = $" + std::to_string(p.size());
    }
    p.emplace_back(static_cast<int64_t>(f.limit));
    sql += " ORDER BY id DESC LIMIT $" + std::to_string(p.size());
    auto rows = s.query(sql, p);
    if (!rows.ok()) return rows.status();
    Out out;
    for (size_t i = 0; i < rows->size(); ++i) out.push_back(task_at(*rows, i));
    return out;
  });
}

Expected<Task> TaskService::cancel(int64_t id) {
  const std::string now = format_rfc3339(now_());
  return store::write_returning<Task>(db_, [&](store::Session& s) -> Expected<Task> {
    std::vector<Value> p{now, id};
    auto changed = s.exec(
        "UPDATE tasks SET status = 'cancelled', finished_at = $1 WHERE id = $2 AND status = "
        "'queued'",
        p);
    if (!changed.ok()) return changed.status();
    auto t = task_in(s, id, false, db_.dialect());
    if (!t.ok()) return t.status();
    if (!*t) return not_found("no such task");
    if (*changed == 0) {
      return conflict("task " + std::to_string(id) + " is " + std::string(to_string((*t)->status)) +
                      ": only a queued task can be cancelled");
    }
    auto released = ledger_.settle_in(s, id, Settle::kRelease, "");
    if (!released.ok()) return released.status();
    return std::move(**t);
  });
}

Expected<std::optional<Task>> TaskService::claim(const std::string& owner) {
  using Out = std::optional<Task>;
  const auto now_tp = now_();
  const std::string now = format_rfc3339(now_tp);
  for (;;) {
    int64_t id = 0;
    auto found = store::read_returning<int64_t>(db_, [&](store::Session& s) -> Expected<int64_t> {
      std::vector<Value> p{now};
      auto rows = s.query(
          "SELECT id FROM tasks WHERE status IN ('queued', 'running') AND (status = 'queued' OR "
          "lease_until < $1) ORDER BY id LIMIT 1",
          p);
      if (!rows.ok()) return rows.status();
      return rows->empty() ? int64_t{0} : rows->get_int(0, 0);
    });
    if (!found.ok()) return found.status();
    id = *found;
    if (id == 0) return Out{};
    auto got = claim_id(id, owner, false);
    if (!got.ok()) return got.status();
    if (*got) return got;
    // Another worker took it (or it was failed as poison): look again.
  }
}

Expected<std::optional<Task>> TaskService::claim_id(int64_t id, const std::string& owner,
                                                    bool takeover, bool* gave_up) {
  using Out = std::optional<Task>;
  if (gave_up != nullptr) *gave_up = false;
  const auto now_tp = now_();
  const std::string now = format_rfc3339(now_tp);
  const std::string until = format_rfc3339(
      now_tp + std::chrono::duration_cast<std::chrono::system_clock::duration>(options_.lease));
  return store::write_returning<Out>(db_, [&](store::Session& s) -> Expected<Out> {
    auto t = task_in(s, id, true, db_.dialect());
    if (!t.ok()) return t.status();
    if (!*t) return Out{};
    Task& task = **t;
    const bool expired = task.status == TaskStatus::kRunning &&
                         (takeover || task.lease_until < now || task.lease_owner == owner);
    if (task.status != TaskStatus::kQueued && !expired) return Out{};
    if (task.attempts >= options_.max_attempts) {
      // Claimed that often without finishing: a poison task (it kills its workers).
      std::vector<Value> p{now,
                           "given up after " + std::to_string(task.attempts) +
                               " attempts that did not finish (a worker died or timed "
                               "out each time)",
                           id};
      VIGIL_RETURN_IF_ERROR(s.exec("UPDATE tasks SET status = 'failed', finished_at = $1, error = "
                                   "$2, lease_owner = NULL, lease_until = NULL WHERE id = $3",
                                   p)
                                .status());
      auto released = ledger_.settle_in(s, id, Settle::kRelease, "");
      if (!released.ok()) return released.status();
      if (gave_up != nullptr) *gave_up = true;
      return Out{};
    }
    std::vector<Value> p{owner, until, now, id};
    VIGIL_RETURN_IF_ERROR(
        s.exec("UPDATE tasks SET status = 'running', lease_owner = $1, lease_until = $2, "
               "attempts = attempts + 1, started_at = COALESCE(started_at, $3) WHERE id = $4",
               p)
            .status());
    task.status = TaskStatus::kRunning;
    task.lease_owner = owner;
    task.lease_until = until;
    task.attempts += 1;
    if (task.started_at.empty()) task.started_at = now;
    return Out(std::move(task));
  });
}

Expected<bool> TaskService::renew(int64_t id, const std::string& owner) {
  const auto now_tp = now_();
  const std::string until = format_rfc3339(
      now_tp + std::chrono::duration_cast<std::chrono::system_clock::duration>(options_.lease));
  std::vector<Value> p{until, id, owner};
  auto changed = db_.exec(
      "UPDATE tasks SET lease_until = $1 WHERE id = $2 AND status = 'running' AND lease_owner = "
      "$3",
      p);
  if (!changed.ok()) return changed.status();
  return *changed == 1;
}

Expected<std::optional<Task>> TaskService::finish_in(store::Session& s, const Finish& f,
                                                     const std::string& now) {
  const char* status = f.outcome == Outcome::kDone       ? "done"
                       : f.outcome == Outcome::kRejected ? "rejected"
                                                         : "failed";
  const bool done = f.outcome == Outcome::kDone;
  std::vector<Value> p{std::string(status), now,
                       done ? Value(f.result_or_error) : Value(std::monostate{}),
                       done ? Value(std::monostate{}) : Value(f.result_or_error), f.id};
  auto rows = s.query(
      std::string("UPDATE tasks SET status = $1, finished_at = $2, result = $3, error = $4, "
                  "lease_owner = NULL, lease_until = NULL WHERE id = $5 AND status = "
                  "'running' RETURNING ") +
          kColumns,
      p);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Task>{};
  Task t = task_at(*rows, 0);
  const std::string what = "task " + std::to_string(f.id) + ": " + t.model + ":" +
                           std::to_string(t.version) + ", " + std::to_string(t.rows) + " rows";
  auto settled = ledger_.settle_in(s, f.id, done ? Settle::kCharge : Settle::kRelease, what);
  if (!settled.ok()) return settled.status();
  return std::optional<Task>(std::move(t));
}

Expected<bool> TaskService::finish(int64_t id, Outcome outcome, const std::string& result_or_error,
                                   Task* finished) {
  auto ended = finish_many({{id, outcome, result_or_error}});
  if (!ended.ok()) return ended.status();
  if (!(*ended)[0]) return false;
  if (finished != nullptr) *finished = std::move(*(*ended)[0]);
  return true;
}

Expected<std::vector<std::optional<Task>>> TaskService::finish_many(
    const std::vector<Finish>& finishes) {
  using Out = std::vector<std::optional<Task>>;
  const std::string now = format_rfc3339(now_());
  return store::write_returning<Out>(db_, [&](store::Session& s) -> Expected<Out> {
    // In id order (the order multi-row updates lock rows in, see claim_many()).
    std::vector<size_t> order(finishes.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return finishes[a].id < finishes[b].id; });
    Out out(finishes.size());
    for (size_t i : order) {
      auto one = finish_in(s, finishes[i], now);
      if (!one.ok()) return one.status();
      out[i] = std::move(*one);
    }
    return out;
  });
}

Expected<std::vector<Task>> TaskService::claim_many(const std::vector<int64_t>& ids,
                                                    const std::string& owner) {
  using Out = std::vector<Task>;
  if (ids.empty()) return Out{};
  const auto now_tp = now_();
  const std::string now = format_rfc3339(now_tp);
  const std::string until = format_rfc3339(
      now_tp + std::chrono::duration_cast<std::chrono::system_clock::duration>(options_.lease));
  std::vector<Value> p{owner, until, now, int64_t{options_.max_attempts}};
  std::string sql =
      "UPDATE tasks SET status = 'running', lease_owner = $1, lease_until = $2, attempts = "
      "attempts + 1, started_at = COALESCE(started_at, $3) WHERE status = 'queued' AND attempts < "
      "$4 AND id IN (";
  // PostgreSQL locks the rows in id order first, as every multi-row update of tasks does
  // (mark_dispatched), so that two of them never deadlock.
  const bool pg = db_.dialect() == store::Dialect::kPostgres;
  if (pg) sql += "SELECT id FROM tasks WHERE id IN (";
  for (size_t i = 0; i < ids.size(); ++i) {
    sql += (i ? ",$" : "$") + std::to_string(p.size() + 1);
    p.emplace_back(ids[i]);
  }
  if (pg) sql += ") ORDER BY id FOR UPDATE";
  sql += ") RETURNING ";
  sql += kColumns;
  return store::write_returning<Out>(db_, [&](store::Session& s) -> Expected<Out> {
    auto rows = s.query(sql, p);
    if (!rows.ok()) return rows.status();
    Out out;
    for (size_t i = 0; i < rows->size(); ++i) out.push_back(task_at(*rows, i));
    std::sort(out.begin(), out.end(), [](const Task& a, const Task& b) { return a.id < b.id; });
    return out;
  });
}

Expected<std::vector<TaskService::Ended>> TaskService::ended_since(const std::string& since,
                                                                   int limit) {
  std::vector<Value> p{since, int64_t{limit}};
  auto rows = db_.query(
      "SELECT id, finished_at FROM tasks WHERE finished_at >= $1 ORDER BY finished_at LIMIT $2", p);
  if (!rows.ok()) return rows.status();
  std::vector<Ended> out;
  out.reserve(rows->size());
  for (size_t i = 0; i < rows->size(); ++i)
    out.push_back({rows->get_int(i, 0), rows->get_text(i, 1)});
  return out;
}

Status TaskService::mark_dispatched(const std::vector<int64_t>& ids) {
  constexpr size_t kChunk = 500;
  for (size_t at = 0; at < ids.size(); at += kChunk) {
    const size_t n = std::min(kChunk, ids.size() - at);
    std::string sql = "UPDATE tasks SET dispatched = 1 WHERE id IN (";
    const bool pg = db_.dialect() == store::Dialect::kPostgres;
    if (pg) sql += "SELECT id FROM tasks WHERE id IN (";  // locks in id order, see claim_many()
    std::vector<Value> p;
    p.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      sql += (i ? ",$" : "$") + std::to_string(i + 1);
      p.emplace_back(ids[at + i]);
    }
    if (pg) sql += ") ORDER BY id FOR UPDATE";
    sql += ")";
    VIGIL_RETURN_IF_ERROR(db_.exec(sql, p).status());
  }
  return {};
}

Expected<std::vector<int64_t>> TaskService::undispatched(
    std::chrono::system_clock::time_point before, int limit) {
  std::vector<Value> p{format_rfc3339(before), int64_t{limit}};
  auto rows = db_.query(
      "SELECT id FROM tasks WHERE status = 'queued' AND dispatched = 0 AND created_at < $1 ORDER "
      "BY id LIMIT $2",
      p);
  if (!rows.ok()) return rows.status();
  std::vector<int64_t> ids;
  for (size_t i = 0; i < rows->size(); ++i) ids.push_back(rows->get_int(i, 0));
  return ids;
}

}  // namespace vigil::tasks
