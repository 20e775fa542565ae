// MemoryQueue: a Queue inside this process, with the delivery rules of the broker (manual
// acknowledgements, prefetch, redelivery of what a consumer held when it goes away, a
// dead-letter list) and a switch that makes it unreachable. Not durable: for unit tests of the
// code that consumes a queue (tasks/queue_feed), never a deployment's queue. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "bus/queue.h"

namespace vigil::bus {

class MemoryQueue : public Queue, public std::enable_shared_from_this<MemoryQueue> {
 public:
  static std::shared_ptr<MemoryQueue> make(int prefetch = 1);

  Status publish(const std::vector<std::string>& bodies) override;
  std::unique_ptr<Consumer> consumer() override;
  bool ready() override;
  Expected<Depth> depth() override;
  std::string describe() const override { return "memory"; }

  // Unreachable: publish and consumers answer kUnavailable, and what consumers held goes back
  // to the queue (as a broker does when their connections drop).
  void set_reachable(bool reachable);
  std::vector<std::string> dead_letters();
  int64_t published() const;

 private:
  friend class MemoryConsumer;
  explicit MemoryQueue(int prefetch) : prefetch_(prefetch) {}

  struct Waiting {
    std::string body;
    bool redelivered = false;
  };
  int prefetch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool reachable_ = true;
  uint64_t generation_ = 1;  // bumped when unreachable: consumers' sessions end
  std::deque<Waiting> ready_;
  std::vector<std::string> dead_;
  int64_t published_ = 0;
  uint64_t next_consumer_ = 0;
  // What each consumer holds unacknowledged: consumer → tag → body.
  std::map<uint64_t, std::map<uint64_t, std::string>> held_;
};

}  // namespace vigil::bus
