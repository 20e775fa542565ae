#include "tasks/queue_feed.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "core/thread_name.h"

namespace vigil::tasks {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxPending = 100'000;  // beyond, the oldest wait for the sweep instead
constexpr std::chrono::milliseconds kFirstBackoff{200};
constexpr std::chrono::milliseconds kMaxBackoff{5000};
constexpr std::chrono::milliseconds kHeartbeatEvery{1000};
constexpr int kSweepBatches = 20;

std::optional<int64_t> task_id_of(const std::string& body) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), id);
  if (ec != std::errc() || end != body.data() + body.size() || id <= 0) return std::nullopt;
  return id;
}

}  // namespace

QueueFeed::QueueFeed(TaskService& tasks, bus::Queue& queue, Options options)
    : tasks_(tasks), queue_(queue), options_(options) {}

QueueFeed::~QueueFeed() {
  stop();
  close_consumers();
}

void QueueFeed::start() {
  std::lock_guard lock(mu_);
  if (!dispatchers_.empty()) return;
  stopping_ = false;
  for (int n = 0; n < std::max(options_.dispatchers, 1); ++n) {
    dispatchers_.emplace_back([this, n] { dispatch_loop(n); });
  }
}

void QueueFeed::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : dispatchers_) t.join();
  dispatchers_.clear();
}

size_t QueueFeed::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

void QueueFeed::submitted(const Task& task) {
  {
    std::lock_guard lock(mu_);
    if (pending_.size() >= kMaxPending) {
      // The broker has been away long: the store keeps them undispatched for the sweep.
      pending_.erase(pending_.begin(), pending_.begin() + kMaxPending / 10);
    }
    pending_.push_back(task.id);
  }
  cv_.notify_one();
}

bool QueueFeed::publish(std::vector<int64_t> ids) {
  if (ids.empty()) return true;
  std::vector<std::string> bodies;
  bodies.reserve(ids.size());
  for (int64_t id : ids) bodies.push_back(std::to_string(id));
  if (Status s = queue_.publish(bodies); !s.ok()) {
    if (!publish_failing_) {
      spdlog::warn("tasks: publishing to the queue failed: {}; retrying with back-off",
                   s.to_string());
    }
    publish_failing_ = true;
    return false;
  }
  if (publish_failing_) spdlog::info("tasks: the queue takes tasks again");
  publish_failing_ = false;
  if (Status s = tasks_.mark_dispatched(ids); !s.ok()) {
    // They are in the queue; the sweep will publish them again (a harmless duplicate).
    spdlog::warn("tasks: marking {} tasks dispatched failed: {}", ids.size(), s.to_string());
  }
  return true;
}

void QueueFeed::sweep() {
  for (int batch = 0; batch < kSweepBatches; ++batch) {
    auto ids = tasks_.undispatched(
        std::chrono::system_clock::now() -
            std::chrono::duration_cast<std::chrono::system_clock::duration>(options_.sweep_after),
        static_cast<int>(options_.max_batch));
    if (!ids.ok()) {
      spdlog::warn("tasks: looking for undispatched tasks failed: {}", ids.status().to_string());
      return;
    }
    if (ids->empty()) return;
    spdlog::info("tasks: publishing {} queued tasks whose message was never confirmed",
                 ids->size());
    const size_t n = ids->size();
    if (!publish(std::move(*ids)) || n < options_.max_batch) return;
  }
}

void QueueFeed::dispatch_loop(int n) {
  set_thread_name("vigil-dispatch-" + std::to_string(n));
  constexpr auto kNever = Clock::time_point::max();
  auto backoff = kFirstBackoff;
  auto next_try = Clock::now();
  // The first dispatcher also sweeps (at start: what an earlier run left behind) and keeps the
  // connections' heartbeats going; all of them publish.
  auto next_sweep = n == 0 ? Clock::now() : kNever;
  auto next_heartbeat = n == 0 ? Clock::now() + kHeartbeatEvery : kNever;
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping_) {
      std::vector<int64_t> ids = std::move(pending_);
      pending_.clear();
      lock.unlock();
      if (!ids.empty() && !publish(ids)) {
        spdlog::warn("tasks: {} tasks left unpublished at stop; a sweep publishes them later",
                     ids.size());
      }
      return;
    }
    const auto now = Clock::now();
    if (!pending_.empty() && now >= next_try) {
      const size_t n = std::min(pending_.size(), options_.max_batch);
      std::vector<int64_t> ids(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(n));
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(n));
      lock.unlock();
      const bool ok = publish(ids);
      lock.lock();
      if (ok) {
        backoff = kFirstBackoff;
      } else {
        pending_.insert(pending_.begin(), ids.begin(), ids.end());
        next_try = Clock::now() + backoff;
        backoff = std::min(backoff * 2, kMaxBackoff);
      }
      continue;
    }
    if (now >= next_sweep) {
      lock.unlock();
      sweep();
      lock.lock();
      next_sweep = Clock::now() + options_.sweep_every;  // (only the first gets here)
      continue;
    }
    if (now >= next_heartbeat) {
      lock.unlock();
      queue_.ready();  // keeps the connection's heartbeats going, reconnects when it broke
      lock.lock();
      next_heartbeat = Clock::now() + kHeartbeatEvery;
      continue;
    }
    auto until = std::min(next_sweep, next_heartbeat);
    if (!pending_.empty()) until = std::min(until, next_try);
    cv_.wait_until(lock, until,
                   [&] { return stopping_ || (!pending_.empty() && Clock::now() >= next_try); });
  }
}

QueueFeed::Owner& QueueFeed::owner_of(const std::string& owner) {
  std::lock_guard lock(owners_mu_);
  auto& o = owners_[owner];
  if (!o) o = std::make_unique<Owner>();
  if (!o->consumer) o->consumer = queue_.consumer();
  return *o;
}

Expected<std::optional<Task>> QueueFeed::next(const std::string& owner,
                                              std::chrono::milliseconds wait) {
  return first_of(next_many(owner, wait, 1));
}

Expected<std::vector<Task>> QueueFeed::next_many(const std::string& owner,
                                                 std::chrono::milliseconds wait, size_t max) {
  using Out = std::vector<Task>;
  Owner& o = owner_of(owner);
  std::vector<bus::Delivery> got;
  for (auto d = o.consumer->next(wait);; d = o.consumer->next(std::chrono::milliseconds(0))) {
    if (!d.ok() && got.empty()) return d.status();
    if (!d.ok() || !*d) break;  // (a broken connection: what came is claimed; the next call says)
    got.push_back(std::move(**d));
    if (got.size() >= std::max<size_t>(max, 1)) break;
  }
  // Fresh deliveries of distinct ids are claimed at once; redeliveries take over one by one.
  std::map<int64_t, bus::Delivery*> fresh;
  std::vector<std::pair<int64_t, bus::Delivery*>> single;
  std::vector<bus::Delivery*> dups;
  const auto claimed_here = [](const auto& list, int64_t id) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.first == id; });
  };
  for (bus::Delivery& d : got) {
    const std::optional<int64_t> id = task_id_of(d.body);
    if (!id) {
      spdlog::warn("tasks: a queue message is not a task id ({} bytes); dead-lettered",
                   d.body.size());
      (void)o.consumer->reject(d, false);
    } else if (fresh.contains(*id) || o.held.contains(*id) || claimed_here(single, *id)) {
      dups.push_back(&d);  // sent twice (a sweep ran while it was confirmed): one runs
    } else if (d.redelivered) {
      single.emplace_back(*id, &d);
    } else {
      fresh.emplace(*id, &d);
    }
  }
  Out out;
  if (fresh.size() > 1) {
    std::vector<int64_t> ids;
    for (const auto& [id, d] : fresh) ids.push_back(id);
    auto claimed = tasks_.claim_many(ids, owner);
    if (!claimed.ok()) {
      for (auto& [id, d] : fresh) (void)o.consumer->reject(*d, true);  // for when the store is back
      for (auto& [id, d] : single) (void)o.consumer->reject(*d, true);
      for (bus::Delivery* d : dups) (void)o.consumer->reject(*d, true);
      return claimed.status();
    }
    for (Task& t : *claimed) {
      auto it = fresh.find(t.id);
      o.held.emplace(t.id, std::move(*it->second));
      fresh.erase(it);
      out.push_back(std::move(t));
    }
  }
  for (const auto& [id, d] : fresh) single.emplace_back(id, d);
  for (size_t i = 0; i < single.size(); ++i) {
    auto t = claim_one(o, *single[i].second, single[i].first, owner);
    if (!t.ok()) {
      for (size_t j = i + 1; j < single.size(); ++j)
        (void)o.consumer->reject(*single[j].second, true);
      if (out.empty()) return t.status();
      spdlog::warn("tasks: claiming a task failed: {}; its message goes back to the queue",
                   t.status().to_string());
      break;  // the ones claimed run
    }
    if (*t) out.push_back(std::move(**t));
  }
  for (bus::Delivery* d : dups) (void)o.consumer->ack(*d);
  return out;
}

Expected<std::optional<Task>> QueueFeed::claim_one(Owner& o, bus::Delivery& delivery, int64_t id,
                                                   const std::string& owner) {
  using Out = std::optional<Task>;
  bool gave_up = false;
  auto claimed = tasks_.claim_id(id, owner, delivery.redelivered, &gave_up);
  if (!claimed.ok()) {
    (void)o.consumer->reject(delivery, true);  // for when the store is back
    return claimed.status();
  }
  if (*claimed) {
    o.held.emplace(id, std::move(delivery));
    return claimed;
  }
  if (gave_up) {
    spdlog::warn("tasks: task {} failed as poison; its message is dead-lettered", id);
    (void)o.consumer->reject(delivery, false);
  } else {
    (void)o.consumer->ack(delivery);  // finished, cancelled, or a duplicate of a running one
  }
  return Out{};
}

void QueueFeed::settled(const std::string& owner, const Task& task, bool recorded) {
  Owner& o = owner_of(owner);
  auto it = o.held.find(task.id);
  if (it == o.held.end()) return;
  Status s = recorded ? o.consumer->ack(it->second) : o.consumer->reject(it->second, true);
  if (!s.ok()) {
    // The connection broke: the broker delivers the message again; its task finishes once.
    spdlog::warn("tasks: settling the message of task {} failed: {}", task.id, s.to_string());
  }
  o.held.erase(it);
}

void QueueFeed::close_consumers() {
  std::lock_guard lock(owners_mu_);
  owners_.clear();
}

}  // namespace vigil::tasks
