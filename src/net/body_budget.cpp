#include "net/body_budget.h"

namespace vigil::net {

BodyBudget::Reservation& BodyBudget::Reservation::operator=(Reservation&& o) noexcept {
  if (this != &o) {
    release();
    budget_ = o.budget_;
    client_ = std::move(o.client_);
    bytes_ = o.bytes_;
    o.budget_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

BodyBudget::Refusal BodyBudget::Reservation::grow(size_t n) {
  if (!budget_ || n == 0) return Refusal::kNone;
  Refusal r = budget_->take(client_, n);
  if (r == Refusal::kNone) bytes_ += n;
  return r;
}

void BodyBudget::Reservation::release() {
  if (budget_ && bytes_ > 0) budget_->give(client_, bytes_);
  bytes_ = 0;
}

BodyBudget::Refusal BodyBudget::take(const std::string& client, size_t n) {
  std::lock_guard lock(mu_);
  size_t& mine = per_client_[client];
  Refusal r = Refusal::kNone;
  if (n > client_limit_ || mine > client_limit_ - n) {
    r = Refusal::kClient;  // the client's own share is the more telling reason
  } else if (n > server_limit_ || total_ > server_limit_ - n) {
    r = Refusal::kServer;
  }
  if (r != Refusal::kNone) {
    if (mine == 0) per_client_.erase(client);
    return r;
  }
  mine += n;
  total_ += n;
  if (in_flight_) in_flight_->set(static_cast<int64_t>(total_));
  return Refusal::kNone;
}

void BodyBudget::give(const std::string& client, size_t n) {
  std::lock_guard lock(mu_);
  total_ -= n;
  if (in_flight_) in_flight_->set(static_cast<int64_t>(total_));
  auto it = per_client_.find(client);
  if (it == per_client_.end()) return;
  it->second -= n;
  if (it->second == 0) per_client_.erase(it);
}

size_t BodyBudget::server_bytes() const {
  std::lock_guard lock(mu_);
  return total_;
}

size_t BodyBudget::client_bytes(const std::string& client) const {
  std::lock_guard lock(mu_);
  auto it = per_client_.find(client);
  return it == per_client_.end() ? 0 : it->second;
}

}  // namespace vigil::net
