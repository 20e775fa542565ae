// LogThrottle: lets a message that can repeat very fast (an accept loop out of descriptors) be
// logged once per interval with how many times it happened, so it cannot flood and rotate away
// the log. Pure logic: the caller passes the time. Not thread-safe (one owner, e.g. the accept
// loop).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace vigil {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogThrottle(Clock::duration interval) : interval_(interval) {}

  // Counts one occurrence at `now`. Returns how many occurrences to report (this one and those
  // held back since the last report) when it is time to log, nullopt when this one is held.
  std::optional<uint64_t> hit(Clock::time_point now) {
    ++pending_;
    if (logged_once_ && now - last_ < interval_) return std::nullopt;
    logged_once_ = true;
    last_ = now;
    uint64_t n = pending_;
    pending_ = 0;
    return n;
  }

 private:
  Clock::duration interval_;
  Clock::time_point last_{};
  uint64_t pending_ = 0;
  bool logged_once_ = false;
};

}  // namespace vigil
