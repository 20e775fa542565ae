// BlockingPool: the threads that run what must not run on an I/O thread (store calls, Argon2,
// explanations, file copies), with a bounded queue. When `max_queued` tasks are waiting already,
// try_post() refuses at once, and the caller answers 503 with Retry-After, so a flood of slow
// work (wrong Basic passwords, each an Argon2 verification) cannot queue without limit.
//
// Thread-safe. The destructor (or join()) waits for queued tasks to finish.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstddef>
#include <utility>

#include "core/metrics.h"

namespace vigil {

class BlockingPool {
 public:
  // `metrics`: vigil_blocking_queued (waiting tasks) and vigil_blocking_refused_total.
  BlockingPool(size_t threads, size_t max_queued, MetricsRegistry& metrics)
      : pool_(threads),
        max_queued_(max_queued),
        queued_gauge_(
            metrics.gauge("vigil_blocking_queued", "Tasks waiting for a blocking-pool thread")),
        refused_(metrics.counter("vigil_blocking_refused_total",
                                 "Tasks refused because the blocking pool's queue was full "
                                 "(answered 503)")) {}
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;
  ~BlockingPool() { join(); }

  // Runs fn() on a pool thread and returns true, unless max_queued tasks are waiting: then
  // false, and fn is dropped without running.
  template <class Fn>
  [[nodiscard]] bool try_post(Fn&& fn) {
    if (queued_.fetch_add(1, std::memory_order_relaxed) >= max_queued_) {
      queued_.fetch_sub(1, std::memory_order_relaxed);
      refused_.inc();
      return false;
    }
    enqueue(std::forward<Fn>(fn));
    return true;
  }

  // Runs fn() on a pool thread, queue full or not: for work that cannot be refused (it finishes
  // what an accepted request started).
  template <class Fn>
  void post(Fn&& fn) {
    queued_.fetch_add(1, std::memory_order_relaxed);
    enqueue(std::forward<Fn>(fn));
  }

  size_t queued() const { return queued_.load(std::memory_order_relaxed); }
  size_t max_queued() const { return max_queued_; }
  void join() { pool_.join(); }

 private:
  template <class Fn>
  void enqueue(Fn&& fn) {
    queued_gauge_.add(1);
    boost::asio::post(pool_, [this, fn = std::forward<Fn>(fn)]() mutable {
      queued_.fetch_sub(1, std::memory_order_relaxed);
      queued_gauge_.add(-1);
      fn();
    });
  }

  boost::asio::thread_pool pool_;
  const size_t max_queued_;
  std::atomic<size_t> queued_{0};
  Gauge& queued_gauge_;
  Counter& refused_;
};

}  // namespace vigil
