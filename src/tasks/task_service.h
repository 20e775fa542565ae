// TaskService: asynchronous predictions as rows in the store (API.md "Tasks and credits"). The
// row is the truth whatever carries the task to a worker (the embedded queue reads this table;
// RabbitMQ messages carry the id):
//
//   submit → queued (its cost held) → claimed by a worker: running, with a lease → finished once:
//   done (the hold charged), rejected (it cannot run as given: the model version is gone, the
//   input does not fit it) or failed (a runtime error, or max_attempts claims that never
//   finished: a poison task). A queued task may be cancelled (the hold released).
//
// Delivery is at least once: a worker that dies leaves its task running with a lease that runs
// out, and the next claim takes it over (attempts counts the claims). Finishing is guarded by
// status = 'running' in one transaction with the credits, so a task is finished — and charged —
// exactly once, however many workers ran it.
//
// Thread-safe; every method blocks on the store (never on an I/O thread). Errors: kNotFound for
// an unknown task; kConflict (cancel) for a task that is no longer queued, (submit) for an
// Idempotency-Key reused with another request; kInvalidArgument names the field; kUnavailable
// when the store is.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/database.h"
#include "tasks/ledger.h"

namespace vigil::tasks {

enum class TaskStatus { kQueued, kRunning, kDone, kRejected, kFailed, kCancelled };
std::string_view to_string(TaskStatus s);
std::optional<TaskStatus> task_status_from(std::string_view s);
bool is_finished(TaskStatus s);

struct Task {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string model;  // as stored
  int64_t version = 0;
  TaskStatus status = TaskStatus::kQueued;
  std::string input;  // JSON text: {"rows":[{…}],"explain":bool}
  int64_t rows = 0;
  int64_t cost = 0;  // milli-credits, held while queued or running
  std::string created_at, started_at, finished_at;
  std::string result;  // JSON text, when done
  std::string error;   // when rejected or failed
  int attempts = 0;
  std::string lease_owner, lease_until;
};

struct NewTask {
  int64_t user_id = 0;
  std::string model;  // a stored model's name and version, resolved by the caller
  int64_t version = 0;
  std::string input;
  int64_t rows = 0;
  int64_t cost = 0;
  std::string idempotency_key;  // empty: none
};

struct Submitted {
  bool ok = false;      // false: short of credits (nothing stored); `short_of` says how
  bool repeat = false;  // the task an earlier request with this Idempotency-Key made
  Task task;
  Taken short_of;
};

struct TaskFilter {
  std::optional<int64_t> user_id;  // none: everyone's (admins)
  std::optional<TaskStatus> status;
  int limit = 50;
  int64_t before_id = 0;  // newest first; 0: from the newest
};

enum class Outcome { kDone, kRejected, kFailed };

class TaskService {
 public:
  using Now = std::function<std::chrono::system_clock::time_point()>;
  struct Options {
    std::chrono::milliseconds lease{30'000};  // how long a claim lasts without a renewal
    int max_attempts = 3;                     // claims before a task is failed as poison
    // A queue publishes the ids of submitted tasks (RabbitMQ): they are stored undispatched until
    // it confirms them. false (the embedded queue): stored as dispatched, outside the sweep's
    // index.
    bool queue_publishes = true;
  };
  TaskService(store::Database& db, Ledger& ledger, Options options, Now now = nullptr);

  // Stores a queued task and holds its cost, in one transaction.
  Expected<Submitted> submit(const NewTask& t);
  Expected<Task> get(int64_t id);
  Expected<std::vector<Task>> list(const TaskFilter& f);
  // queued → cancelled, the hold released. kConflict once it is running or finished.
  Expected<Task> cancel(int64_t id);

  // The oldest task a worker may take: queued, or running with a lease that ran out. It becomes
  // running for `owner` with a fresh lease (attempts + 1); one whose attempts are used up is
  // failed instead (the hold released) and the next is looked at. None: nothing to do.
  Expected<std::optional<Task>> claim(const std::string& owner);
  // The same for one task (a queue delivered its id): none when it is finished, cancelled, or
  // running under another owner's live lease (unless `takeover`: the queue says its previous
  // consumer is gone). *gave_up (optional) says the task was failed just now as poison.
  Expected<std::optional<Task>> claim_id(int64_t id, const std::string& owner, bool takeover,
                                         bool* gave_up = nullptr);
  // claim_id() for several queued tasks at once (one transaction): those no longer queued, or
  // whose attempts are used up, are left out.
  Expected<std::vector<Task>> claim_many(const std::vector<int64_t>& ids, const std::string& owner);
  // Extends the owner's lease of a running task; false when the task is no longer theirs.
  Expected<bool> renew(int64_t id, const std::string& owner);
  // running → done (result; the hold charged) | rejected | failed (error; the hold released).
  // Returns false, changing nothing, when the task is not running (finished by another delivery,
  // or cancelled): finishing twice is harmless. *finished (optional) gets the task as it ended.
  Expected<bool> finish(int64_t id, Outcome outcome, const std::string& result_or_error,
                        Task* finished = nullptr);
  // finish() for several tasks in one transaction: for each, the task as it ended, or none when
  // it was not running.
  struct Finish {
    int64_t id = 0;
    Outcome outcome = Outcome::kDone;
    std::string result_or_error;
  };
  Expected<std::vector<std::optional<Task>>> finish_many(const std::vector<Finish>& finishes);

  // The ids and finished_at of tasks that ended at or after `since` (RFC 3339 text as
  // format_rfc3339 writes it; finished_at is the finishing node's clock), oldest first.
  struct Ended {
    int64_t id = 0;
    std::string finished_at;
  };
  Expected<std::vector<Ended>> ended_since(const std::string& since, int limit);

  // A queue carries the ids (RabbitMQ): a task's message was confirmed by the broker.
  Status mark_dispatched(const std::vector<int64_t>& ids);
  // Queued tasks made before `before` whose message was never confirmed (their node died
  // between storing and publishing, or the broker was away), oldest first.
  Expected<std::vector<int64_t>> undispatched(std::chrono::system_clock::time_point before,
                                              int limit);

 private:
  Expected<std::optional<Task>> finish_in(store::Session& s, const Finish& f,
                                          const std::string& now);

  store::Database& db_;
  Ledger& ledger_;
  Options options_;
  Now now_;
};

}  // namespace vigil::tasks
