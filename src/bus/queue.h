// Queue: a durable work queue between the nodes that submit work and the processes that do it
// (tasks: the message is a task's id; the store keeps the task). Delivery is at least once: a
// message is removed when a consumer acknowledges it; one whose consumer went away (its
// connection closed: the process died, the broker restarted) is delivered again, marked
// `redelivered`. Consumers make that harmless (tasks finish once in the store).
//
// Implementations: AmqpQueue (RabbitMQ, amqp_queue.h) and MemoryQueue (in this process, not
// durable: for unit tests of what consumes a queue). The embedded mode needs neither: its queue
// is the tasks table (tasks/worker.h StoreFeed).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil::bus {

struct Delivery {
  uint64_t tag = 0;      // the broker's delivery tag on `session`
  uint64_t session = 0;  // which connection of the consumer got it (tags are per connection)
  bool redelivered = false;
  std::string body;
};

// One thread's consumer: owns its connection. Not thread-safe. Takes at most `prefetch`
// unacknowledged messages at a time.
class Consumer {
 public:
  virtual ~Consumer() = default;
  // The next message, waiting up to `wait`; none when none came. kUnavailable when the broker
  // cannot be reached: the consumer reconnects (with back-off) on a later call, and the messages
  // it held are delivered again by the broker.
  virtual Expected<std::optional<Delivery>> next(std::chrono::milliseconds wait) = 0;
  // Removes the message. A message of an earlier session is ignored (the broker already gave it
  // back when that connection closed). kUnavailable when the connection broke.
  virtual Status ack(const Delivery& d) = 0;
  // Gives the message back for another consumer (`requeue`), or dead-letters it: a poison
  // message goes to the queue's dead-letter queue, where an operator can look at it.
  virtual Status reject(const Delivery& d, bool requeue) = 0;
};

// Thread-safe.
class Queue {
 public:
  virtual ~Queue() = default;
  // Stores `bodies` durably, in order: returns once the broker confirmed every one (publisher
  // confirms; persistent messages on a durable queue). kUnavailable when the broker cannot be
  // reached or refused some: then any of them may or may not be stored, and publishing again
  // may deliver one twice.
  virtual Status publish(const std::vector<std::string>& bodies) = 0;
  virtual std::unique_ptr<Consumer> consumer() = 0;
  // Whether the broker answered lately (the publishing connection is up): readiness.
  virtual bool ready() = 0;
  // Messages waiting for a consumer, and dead letters kept (metrics); kUnavailable when the
  // broker cannot say.
  struct Depth {
    int64_t waiting = 0;
    int64_t dead = 0;
  };
  virtual Expected<Depth> depth() = 0;
  // Where the queue is, without credentials (logs, /readyz).
  virtual std::string describe() const = 0;
};

}  // namespace vigil::bus
