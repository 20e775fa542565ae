#include "tasks/task_watch.h"

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "core/thread_name.h"

namespace vigil::tasks {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kKnown = 65536;  // ended tasks remembered (dedupes what the poll reads again)
constexpr int kPollBatch = 1000;

}  // namespace

TaskWatch::TaskWatch(TaskService& tasks, Options options, Ended ended)
    : tasks_(tasks), options_(options), ended_(std::move(ended)) {}

TaskWatch::~TaskWatch() { stop(); }

void TaskWatch::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void TaskWatch::stop() {
  std::vector<Wake> wake;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [n, w] : waiters_) wake.push_back(std::move(w.wake));
    waiters_.clear();
    deadlines_.clear();
    by_task_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& w : wake) w(nullptr);
}

bool TaskWatch::wait(int64_t id, Clock::time_point deadline, Wake wake) {
  {
    std::unique_lock lock(mu_);
    if (!stopping_ && thread_.joinable() && !known_.contains(id)) {
      if (waiters_.size() >= options_.max_waiters) return false;
      const uint64_t n = ++next_waiter_;
      waiters_.emplace(n, Waiter{id, std::move(wake)});
      deadlines_.emplace(deadline, n);
      by_task_.emplace(id, n);
      lock.unlock();
      cv_.notify_all();  // the loop may have to wake sooner
      return true;
    }
  }
  wake(nullptr);  // ended already (or the watch is not running): answer now
  return true;
}

void TaskWatch::ended_here(const Task& task) {
  std::vector<Wake> wake;
  {
    std::lock_guard lock(mu_);
    note_ended_locked(task.id, wake);
  }
  for (auto& w : wake) w(&task);
}

void TaskWatch::submitted_here(const Task& task) {
  std::lock_guard lock(mu_);
  if (pending_owner_.size() >= kKnown) pending_owner_.clear();  // a flood: forget, read instead
  if (!known_.contains(task.id)) pending_owner_[task.id] = task.user_id;
}

std::optional<int64_t> TaskWatch::owner_of(int64_t id) const {
  std::lock_guard lock(mu_);
  auto it = pending_owner_.find(id);
  if (it == pending_owner_.end()) return std::nullopt;
  return it->second;
}

size_t TaskWatch::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

bool TaskWatch::note_ended_locked(int64_t id, std::vector<Wake>& wake) {
  if (!known_.insert(id).second) return false;
  pending_owner_.erase(id);
  known_order_.push_back(id);
  if (known_order_.size() > kKnown) {
    known_.erase(known_order_.front());
    known_order_.pop_front();
  }
  auto [first, last] = by_task_.equal_range(id);
  for (auto it = first; it != last; ++it) {
    auto w = waiters_.find(it->second);
    if (w == waiters_.end()) continue;
    wake.push_back(std::move(w->second.wake));
    waiters_.erase(w);  // its deadline entry is skipped when it comes up
  }
  by_task_.erase(first, last);
  return true;
}

void TaskWatch::loop() {
  set_thread_name("vigil-task-watch");
  auto margin = std::chrono::duration_cast<std::chrono::system_clock::duration>(options_.margin);
  std::string since = format_rfc3339(std::chrono::system_clock::now() - margin);
  auto next_poll = Clock::now() + options_.poll;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto now = Clock::now();
    std::vector<Wake> wake;
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const uint64_t n = deadlines_.begin()->second;
      deadlines_.erase(deadlines_.begin());
      auto w = waiters_.find(n);
      if (w == waiters_.end()) continue;
      auto [first, last] = by_task_.equal_range(w->second.id);
      for (auto it = first; it != last; ++it) {
        if (it->second == n) {
          by_task_.erase(it);
          break;
        }
      }
      wake.push_back(std::move(w->second.wake));
      waiters_.erase(w);
    }
    if (!wake.empty()) {
      lock.unlock();
      for (auto& f : wake) f(nullptr);
      lock.lock();
      continue;
    }
    if (now >= next_poll) {
      lock.unlock();
      const auto started = std::chrono::system_clock::now();
      auto ended = tasks_.ended_since(since, kPollBatch);
      std::vector<int64_t> fresh;
      lock.lock();
      if (!ended.ok()) {
        spdlog::warn("tasks: looking for tasks that ended elsewhere failed: {}",
                     ended.status().to_string());
      } else {
        for (const auto& e : *ended) {
          if (note_ended_locked(e.id, wake)) fresh.push_back(e.id);
        }
        // A full batch: go on from its last; else from a margin before this read.
        since = ended->size() == kPollBatch ? ended->back().finished_at
                                            : format_rfc3339(started - margin);
      }
      lock.unlock();
      for (auto& f : wake) f(nullptr);
      if (ended_) {
        for (int64_t id : fresh) {  // ended elsewhere: read whole for the events
          auto t = tasks_.get(id);
          if (t.ok()) ended_(*t);
        }
      }
      lock.lock();
      next_poll = Clock::now() + options_.poll;
      continue;
    }
    auto until = next_poll;
    if (!deadlines_.empty()) until = std::min(until, deadlines_.begin()->first);
    cv_.wait_until(lock, until);
  }
}

}  // namespace vigil::tasks
