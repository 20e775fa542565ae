// QueueFeed: tasks carried by a broker's queue (queue.url = amqp://…). The store stays the
// truth about every task; a message is only a task's id (decimal text).
//
// Publishing (serve nodes: start()): submitted() hands the id to a dispatcher thread (one of
// `dispatchers`, so that a batch waiting for its confirms does not hold up the next) that
// publishes whatever gathered as one confirmed batch and then marks those tasks dispatched in
// the store. While the broker is away, ids wait in memory and are published when it is back;
// and every `sweep_every` the dispatcher publishes queued tasks older than `sweep_after` that
// were never marked (their node died between storing and publishing), so no task is stranded.
// A message may thus be sent twice: harmless, see below.
//
// Consuming (every worker thread, also in `vigil worker`): each owner (worker thread) has a
// consumer of its own. A delivery is claimed in the store (TaskService::claim_id, taking over
// when the message was redelivered: its previous consumer is gone; next_many() claims the
// deliveries the consumer already holds, up to its prefetch, in one transaction with
// TaskService::claim_many) and acknowledged once the outcome is stored; when it cannot be stored
// the message goes back to the queue. A message for a task that is finished, cancelled or running
// under a live lease elsewhere (a duplicate) is acknowledged and dropped; one whose task was failed
// as poison (max_attempts claims that never finished), or that is not an id, is dead-lettered.
//
// Thread-safe: next()/settled() for one owner come from one thread (WorkerPool's contract).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bus/queue.h"
#include "tasks/worker.h"

namespace vigil::tasks {

class QueueFeed : public TaskFeed {
 public:
  struct Options {
    std::chrono::milliseconds sweep_every{5000};
    std::chrono::milliseconds sweep_after{10000};
    size_t max_batch = 500;
    // Threads publishing at once (each a batch in flight on a publishing connection of its own,
    // bus::AmqpOptions::publishers).
    int dispatchers = 4;
  };
  QueueFeed(TaskService& tasks, bus::Queue& queue, Options options);
  ~QueueFeed() override;

  // Starts the dispatcher (nodes that take submissions); stop() publishes what is pending when
  // it can and joins.
  void start();
  void stop();

  Expected<std::optional<Task>> next(const std::string& owner,
                                     std::chrono::milliseconds wait) override;
  Expected<std::vector<Task>> next_many(const std::string& owner, std::chrono::milliseconds wait,
                                        size_t max) override;
  void settled(const std::string& owner, const Task& task, bool recorded) override;
  void submitted(const Task& task) override;
  void wake() override {}

  // Ids waiting to be published (metrics, tests).
  size_t pending() const;
  // Ends every consumer's connection (the worker pool stopped): what they held is delivered to
  // others. Call only when no next() runs.
  void close_consumers();

 private:
  struct Owner {
    std::unique_ptr<bus::Consumer> consumer;
    std::map<int64_t, bus::Delivery> held;  // the deliveries of the tasks it runs, by task id
  };
  Owner& owner_of(const std::string& owner);
  // Claims one delivery on its own (a redelivery takes over; a task that claim_many did not
  // take is found finished, a duplicate, or poison); settles the message when not claimed.
  Expected<std::optional<Task>> claim_one(Owner& o, bus::Delivery& delivery, int64_t id,
                                          const std::string& owner);
  void dispatch_loop(int n);
  bool publish(std::vector<int64_t> ids);  // false: the broker did not take them
  void sweep();

  TaskService& tasks_;
  bus::Queue& queue_;
  Options options_;

  std::mutex owners_mu_;
  std::map<std::string, std::unique_ptr<Owner>> owners_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int64_t> pending_;
  bool stopping_ = false;
  std::atomic<bool> publish_failing_{false};  // the dispatchers': logs once per outage
  std::vector<std::thread> dispatchers_;
};

}  // namespace vigil::tasks
