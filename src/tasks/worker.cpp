#include "tasks/worker.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <future>

#include "core/json_text.h"
#include "core/thread_name.h"
#include "serving/named_rows.h"

namespace vigil::tasks {
namespace json = boost::json;

Expected<std::optional<Task>> TaskFeed::first_of(Expected<std::vector<Task>> many) {
  if (!many.ok()) return many.status();
  if (many->empty()) return std::optional<Task>{};
  return std::optional<Task>(std::move(many->front()));
}

Expected<std::optional<Task>> StoreFeed::next(const std::string& owner,
                                              std::chrono::milliseconds wait) {
  return first_of(next_many(owner, wait, 1));
}

Expected<std::vector<Task>> StoreFeed::next_many(const std::string& owner,
                                                 std::chrono::milliseconds wait, size_t max) {
  uint64_t seen;
  std::vector<int64_t> ids;
  {
    std::lock_guard lock(mu_);
    seen = wakes_;
    while (!local_.empty() && ids.size() < max) {
      ids.push_back(local_.front());
      local_.pop_front();
    }
  }
  if (!ids.empty()) {
    auto claimed = tasks_.claim_many(ids, owner);
    if (!claimed.ok() || !claimed->empty()) return claimed;
    // None of them is queued any more (cancelled, or taken by another process): search.
  }
  auto t = tasks_.claim(owner);
  if (!t.ok()) return t.status();
  std::vector<Task> out;
  if (*t) {
    out.push_back(std::move(**t));
    return out;
  }
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::min(wait, poll_), [&] { return wakes_ != seen; });
  return out;
}

void StoreFeed::submitted(const Task& task) {
  {
    std::lock_guard lock(mu_);
    if (local_.size() < kMaxLocal) local_.push_back(task.id);
    ++wakes_;
  }
  cv_.notify_one();
}

void StoreFeed::wake() {
  {
    std::lock_guard lock(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

WorkerPool::WorkerPool(TaskService& tasks, TaskFeed& feed, serving::ModelServer& server,
                       WorkerOptions options, std::function<void(const Task&)> changed)
    : tasks_(tasks),
      feed_(feed),
      server_(server),
      options_(std::move(options)),
      changed_(std::move(changed)) {}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::start() {
  stopping_ = false;
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this, i] { loop(i); });
}

void WorkerPool::stop() {
  stopping_ = true;
  feed_.wake();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void WorkerPool::loop(int n) {
  set_thread_name("vigil-task-" + std::to_string(n));
  const std::string owner = options_.name + "/" + std::to_string(n);
  while (!stopping_) {
    auto batch = feed_.next_many(owner, options_.idle_wait, std::max<size_t>(options_.batch, 1));
    if (!batch.ok()) {
      spdlog::warn("tasks: taking a task failed: {}; trying again in 1 s",
                   batch.status().to_string());
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    if (batch->empty()) continue;
    if (changed_) {
      for (const Task& t : *batch) changed_(t);
    }
    const bool recorded = run_all(*batch);
    for (const Task& t : *batch) feed_.settled(owner, t, recorded);
  }
}

namespace {

// A task of at most this many rows (each with contributions counting kExplainCost) is predicted
// on the worker's thread; bigger ones go through the batcher and the blocking pool while the
// worker renews the lease.
constexpr size_t kInlineRows = 1024;
constexpr size_t kExplainCost = 16;

// What a worker decided about a task.
struct Verdict {
  Outcome outcome;
  std::string text;  // the result (done) or the reason
};

// `renew` is called every `renew_every` while the model runs (it keeps the task's lease).
Verdict predict(serving::ModelServer& server, const Task& task, size_t max_rows,
                std::chrono::milliseconds renew_every, const std::function<void()>& renew) {
  boost::system::error_code ec;
  auto doc = std::make_shared<json::value>(parse_json(task.input, ec));
  if (ec || !doc->is_object() || !doc->get_object().contains("rows")) {
    return {Outcome::kRejected, "the task's input is not {\"rows\": [...]}"};
  }
  const json::value* explain = doc->get_object().if_contains("explain");
  const bool want_contributions = explain && explain->is_bool() && explain->get_bool();
  auto handle = server.load(task.model, std::to_string(task.version));
  if (!handle.ok()) {
    if (handle.status().code() == ErrorCode::kNotFound) {
      return {Outcome::kRejected, handle.status().message()};
    }
    return {Outcome::kFailed, "the model could not be loaded: " + handle.status().message()};
  }
  const json::value& rows_value = doc->get_object().at("rows");
  auto rows = serving::named_rows(doc, rows_value, max_rows);
  if (!rows.ok()) return {Outcome::kRejected, rows.status().message()};
  std::vector<serving::FieldIssue> issues;
  std::vector<float> data = serving::to_matrix(*rows, *handle->resolved, issues);
  if (!issues.empty()) return {Outcome::kRejected, issues[0].field + ": " + issues[0].message};
  const size_t n = rows->rows.size();
  Expected<serving::Prediction> p = unavailable("not run");
  if (n * (want_contributions ? kExplainCost : 1) <= kInlineRows) {
    // Small: on this thread, at once (it is its own batch; it ends well within a lease).
    p = server.infer_now(*handle, data, n, want_contributions);
  } else {
    std::promise<Expected<serving::Prediction>> done;
    auto answer = done.get_future();
    server.infer(*handle, std::move(data), n, want_contributions,
                 [&done](Expected<serving::Prediction> p) { done.set_value(std::move(p)); });
    while (answer.wait_for(renew_every) == std::future_status::timeout) renew();
    p = answer.get();
  }
  if (!p.ok()) return {Outcome::kFailed, p.status().message()};
  return {Outcome::kDone, serving::task_result_json(*handle->resolved, *p, n)};
}

}  // namespace

bool WorkerPool::run(const Task& task) { return run_all({task}); }

bool WorkerPool::run_all(const std::vector<Task>& tasks) {
  auto renew = [&] {
    for (const Task& t : tasks) {  // the batch's tasks waiting for their turn too
      auto renewed = tasks_.renew(t.id, t.lease_owner);
      if (!renewed.ok()) {
        spdlog::warn("tasks: renewing the lease of task {} failed: {}", t.id,
                     renewed.status().to_string());
      }
    }
  };
  std::vector<TaskService::Finish> finishes;
  finishes.reserve(tasks.size());
  for (const Task& t : tasks) {
    Verdict v = predict(server_, t, options_.max_rows, options_.renew_every, renew);
    finishes.push_back({t.id, v.outcome, std::move(v.text)});
  }
  for (int attempt = 0;; ++attempt) {
    auto ended = tasks_.finish_many(finishes);
    if (ended.ok()) {
      for (auto& e : *ended) {
        if (!e) continue;  // another delivery finished it
        ++finished_;
        if (changed_) changed_(*e);
      }
      return true;
    }
    if (attempt >= 5 || stopping_) {
      // The store is away: the leases run out and the tasks are claimed again.
      spdlog::warn("tasks: storing the outcome of {} task(s) failed: {}", tasks.size(),
                   ended.status().to_string());
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
  }
}

}  // namespace vigil::tasks
