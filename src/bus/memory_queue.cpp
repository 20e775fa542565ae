#include "bus/memory_queue.h"

namespace vigil::bus {

class MemoryConsumer : public Consumer {
 public:
  MemoryConsumer(std::shared_ptr<MemoryQueue> q, uint64_t id) : q_(std::move(q)), id_(id) {}
  ~MemoryConsumer() override {
    std::lock_guard lock(q_->mu_);
    give_back_locked();
    q_->held_.erase(id_);
  }

  Expected<std::optional<Delivery>> next(std::chrono::milliseconds wait) override {
    std::unique_lock lock(q_->mu_);
    if (!q_->reachable_) return unavailable("the queue is unreachable");
    if (session_ != q_->generation_) {
      held().clear();  // the broker gave them back when the session ended
      session_ = q_->generation_;
    }
    const bool got = q_->cv_.wait_for(lock, wait, [&] {
      return !q_->reachable_ ||
             (!q_->ready_.empty() && static_cast<int>(held().size()) < q_->prefetch_);
    });
    if (!q_->reachable_) return unavailable("the queue is unreachable");
    if (!got) return std::optional<Delivery>{};
    MemoryQueue::Waiting w = std::move(q_->ready_.front());
    q_->ready_.pop_front();
    const uint64_t tag = ++next_tag_;
    held()[tag] = w.body;
    return std::optional<Delivery>(Delivery{tag, session_, w.redelivered, std::move(w.body)});
  }

  Status ack(const Delivery& d) override {
    std::lock_guard lock(q_->mu_);
    if (!q_->reachable_) return unavailable("the queue is unreachable");
    if (d.session == session_) held().erase(d.tag);
    q_->cv_.notify_all();
    return {};
  }

  Status reject(const Delivery& d, bool requeue) override {
    std::lock_guard lock(q_->mu_);
    if (!q_->reachable_) return unavailable("the queue is unreachable");
    if (d.session != session_) return {};
    auto it = held().find(d.tag);
    if (it == held().end()) return {};
    if (requeue) {
      q_->ready_.push_back({std::move(it->second), true});
    } else {
      q_->dead_.push_back(std::move(it->second));
    }
    held().erase(it);
    q_->cv_.notify_all();
    return {};
  }

  void give_back_locked() {
    for (auto& [tag, body] : held()) q_->ready_.push_front({std::move(body), true});
    held().clear();
    q_->cv_.notify_all();
  }

 private:
  std::map<uint64_t, std::string>& held() { return q_->held_[id_]; }

  std::shared_ptr<MemoryQueue> q_;
  uint64_t id_;
  uint64_t session_ = 0;
  uint64_t next_tag_ = 0;
};

std::shared_ptr<MemoryQueue> MemoryQueue::make(int prefetch) {
  return std::shared_ptr<MemoryQueue>(new MemoryQueue(prefetch));
}

Status MemoryQueue::publish(const std::vector<std::string>& bodies) {
  std::lock_guard lock(mu_);
  if (!reachable_) return unavailable("the queue is unreachable");
  for (const auto& b : bodies) ready_.push_back({b, false});
  published_ += static_cast<int64_t>(bodies.size());
  cv_.notify_all();
  return {};
}

std::unique_ptr<Consumer> MemoryQueue::consumer() {
  std::lock_guard lock(mu_);
  return std::make_unique<MemoryConsumer>(shared_from_this(), ++next_consumer_);
}

bool MemoryQueue::ready() {
  std::lock_guard lock(mu_);
  return reachable_;
}

Expected<Queue::Depth> MemoryQueue::depth() {
  std::lock_guard lock(mu_);
  if (!reachable_) return unavailable("the queue is unreachable");
  return Depth{static_cast<int64_t>(ready_.size()), static_cast<int64_t>(dead_.size())};
}

void MemoryQueue::set_reachable(bool reachable) {
  std::lock_guard lock(mu_);
  if (reachable_ && !reachable) {
    ++generation_;
    for (auto& [consumer, held] : held_) {
      for (auto& [tag, body] : held) ready_.push_front({std::move(body), true});
      held.clear();
    }
  }
  reachable_ = reachable;
  cv_.notify_all();
}

std::vector<std::string> MemoryQueue::dead_letters() {
  std::lock_guard lock(mu_);
  return dead_;
}

int64_t MemoryQueue::published() const {
  std::lock_guard lock(mu_);
  return published_;
}

}  // namespace vigil::bus
