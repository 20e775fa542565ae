// TaskWatch: a serving node's view of tasks ending, for its events and for requests that wait
// for a task (GET /api/v1/tasks/{id}?wait=). Tasks end on this node (its worker threads, a
// cancel: ended_here(), at once) or in other processes (`vigil worker`, other nodes): those are
// found by reading the store every `poll` for tasks whose finished_at is recent, and handed to
// `ended` once each (the node publishes their events).
//
// Other processes' ends are seen within `poll` when the nodes' clocks agree within `margin`
// (finished_at is the finishing node's clock); beyond that their events are missed, and a waiting
// request answers at its deadline with what the store says then.
//
// Thread-safe. `wake` and `ended` are called on the watch's thread or on the thread that called
// ended_here(): they must be quick (post the real work elsewhere).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tasks/task_service.h"

namespace vigil::tasks {

class TaskWatch {
 public:
  struct Options {
    std::chrono::milliseconds poll{500};
    std::chrono::milliseconds margin{2000};
    size_t max_waiters = 10000;
  };
  using Ended = std::function<void(const Task&)>;
  // Called with the task when it ended on this node (ended_here), else with nullptr: at the
  // deadline, at stop(), or when it ended elsewhere (read it from the store).
  using Wake = std::function<void(const Task*)>;
  TaskWatch(TaskService& tasks, Options options, Ended ended);
  ~TaskWatch();
  void start();
  void stop();  // wakes every waiter

  // Calls `wake` once: when task `id` ends (or ended a moment ago), at `deadline`, or at stop().
  // false, calling nothing, when max_waiters wait already (the caller answers at once).
  bool wait(int64_t id, std::chrono::steady_clock::time_point deadline, Wake wake);
  // A task ended on this node: `task` as it ended.
  void ended_here(const Task& task);
  // A task was submitted on this node: until it ends, owner_of() knows whose it is, so a
  // request may wait for it without reading it first.
  void submitted_here(const Task& task);
  // The owner of a task submitted here that has not ended; none when unknown.
  std::optional<int64_t> owner_of(int64_t id) const;
  size_t waiting() const;

 private:
  struct Waiter {
    int64_t id;
    Wake wake;
  };
  void loop();
  // Remembers `id` as ended and takes its waiters (under mu_); false when it was known.
  bool note_ended_locked(int64_t id, std::vector<Wake>& wake);

  TaskService& tasks_;
  Options options_;
  Ended ended_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  uint64_t next_waiter_ = 0;
  std::map<uint64_t, Waiter> waiters_;  // by number
  std::multimap<std::chrono::steady_clock::time_point, uint64_t> deadlines_;
  std::multimap<int64_t, uint64_t> by_task_;
  std::unordered_map<int64_t, int64_t> pending_owner_;  // submitted here, not ended: → user
  std::unordered_set<int64_t> known_;  // ended recently (bounded, oldest forgotten first)
  std::deque<int64_t> known_order_;
};

}  // namespace vigil::tasks
