// Limits failed sign-ins per account and per client address: after `max_failures` failures in
// a window, further attempts are refused until the window ends (429 with Retry-After).
// Successful sign-in clears the account's count. Thread-safe; memory is bounded.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace vigil::auth {

class LoginLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  LoginLimiter(int max_per_account, int max_per_ip, std::chrono::seconds window);

  // 0 when an attempt may proceed, else seconds until it may.
  int retry_after(const std::string& account, const std::string& ip);
  void record_failure(const std::string& account, const std::string& ip);
  void record_success(const std::string& account);

 private:
  struct Window {
    int failures = 0;
    Clock::time_point start;
  };
  int blocked_for(std::unordered_map<std::string, Window>& map, const std::string& key, int max,
                  Clock::time_point now);
  void bump(std::unordered_map<std::string, Window>& map, const std::string& key,
            Clock::time_point now);

  const int max_per_account_;
  const int max_per_ip_;
  const std::chrono::seconds window_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> accounts_;
  std::unordered_map<std::string, Window> ips_;
};

}  // namespace vigil::auth
