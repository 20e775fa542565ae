// Running tasks: a TaskFeed hands a worker its next claimed task (the embedded StoreFeed claims
// from the tasks table, waiting for a submit or polling; the RabbitMQ feed turns deliveries into
// claims), and a WorkerPool of threads runs each through src/serving — the same model cache,
// runtimes and batcher as synchronous predictions — and finishes it:
//   done (the result: each row's prediction, band and contributions when asked), rejected (the
//   model version is gone, or the rows do not fit it: unknown features, non-numbers) or failed
//   (the runtime could not load or run it).
// A store that cannot be reached leaves the task claimed; its lease runs out and it is claimed
// again (attempts count; TaskService fails it after max_attempts).
//
// Thread-safe. stop() lets each worker finish the task it runs, then joins; a task it had not
// started stays queued or, claimed, is taken over when its lease runs out.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "serving/model_server.h"
#include "tasks/task_service.h"

namespace vigil::tasks {

class TaskFeed {
 public:
  virtual ~TaskFeed() = default;
  // The next task claimed for `owner`, waiting up to `wait` for one; none when there is none.
  virtual Expected<std::optional<Task>> next(const std::string& owner,
                                             std::chrono::milliseconds wait) = 0;
  // Up to `max` tasks claimed for `owner` at once (one store transaction where the feed can);
  // by default the one next() gives.
  virtual Expected<std::vector<Task>> next_many(const std::string& owner,
                                                std::chrono::milliseconds wait, size_t max) {
    (void)max;
    auto t = next(owner, wait);
    if (!t.ok()) return t.status();
    std::vector<Task> out;
    if (*t) out.push_back(std::move(**t));
    return out;
  }
  // The worker `owner` is done with the task it was given: `recorded` when its outcome is in
  // the store (or another delivery's was), false when the store could not be reached (a queue
  // then delivers it again; the embedded queue's lease runs out).
  virtual void settled(const std::string& owner, const Task& task, bool recorded) {
    (void)owner, (void)task, (void)recorded;
  }
  // A task was stored as queued on this node: the embedded queue wakes its workers, a broker's
  // feed publishes its id.
  virtual void submitted(const Task&) { wake(); }
  // Wakes the workers waiting in next() (a task was submitted, or the pool stops).
  virtual void wake() = 0;

 protected:
  // The first of next_many()'s tasks (for a next() that is next_many(…, 1)).
  static Expected<std::optional<Task>> first_of(Expected<std::vector<Task>> many);
};

// The embedded queue: the tasks table itself. next() claims a task submitted on this node by
// its id (no search), else the oldest claimable task; when there is none it waits for a submit
// on this node or `poll` (tasks submitted by other nodes, leases that ran out), whichever comes
// first.
class StoreFeed : public TaskFeed {
 public:
  StoreFeed(TaskService& tasks, std::chrono::milliseconds poll) : tasks_(tasks), poll_(poll) {}
  Expected<std::optional<Task>> next(const std::string& owner,
                                     std::chrono::milliseconds wait) override;
  // Claims up to `max` of the tasks submitted on this node in one transaction, else searches.
  Expected<std::vector<Task>> next_many(const std::string& owner, std::chrono::milliseconds wait,
                                        size_t max) override;
  void submitted(const Task& task) override;
  void wake() override;

 private:
  static constexpr size_t kMaxLocal = 10000;  // beyond, they are found by the search
  TaskService& tasks_;
  std::chrono::milliseconds poll_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t wakes_ = 0;
  std::deque<int64_t> local_;  // submitted here, not yet taken
};

struct WorkerOptions {
  int threads = 2;
  std::string name;  // lease owner prefix: "<host>:<pid>" (each thread adds "/<n>")
  size_t max_rows = 10000;
  std::chrono::milliseconds idle_wait{1000};
  // A running task's lease is renewed this often (a third of tasks.lease_s), so a task that
  // takes longer than the lease is not taken over while its worker lives.
  std::chrono::milliseconds renew_every{10000};
  // Tasks a worker takes at once where the feed can (claimed and finished in one transaction
  // each: fewer, larger store writes under load).
  size_t batch = 8;
};

class WorkerPool {
 public:
  // `changed`: called with each task a worker started or finished (events). May be empty.
  WorkerPool(TaskService& tasks, TaskFeed& feed, serving::ModelServer& server,
             WorkerOptions options, std::function<void(const Task&)> changed = nullptr);
  ~WorkerPool();
  void start();
  void stop();
  // Runs one claimed task to its end (the workers' step; tests call it directly). false when
  // its outcome could not be stored (the store is away).
  bool run(const Task& task);
  // Runs claimed tasks one after the other and stores their outcomes in one transaction.
  bool run_all(const std::vector<Task>& tasks);
  int64_t finished() const { return finished_.load(); }

 private:
  void loop(int n);

  TaskService& tasks_;
  TaskFeed& feed_;
  serving::ModelServer& server_;
  WorkerOptions options_;
  std::function<void(const Task&)> changed_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> finished_{0};
  std::vector<std::thread> threads_;
};

}  // namespace vigil::tasks
