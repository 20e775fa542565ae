#include "auth/login_limiter.h"

#include <algorithm>

namespace vigil::auth {

LoginLimiter::LoginLimiter(int max_per_account, int max_per_ip, std::chrono::seconds window)
    : max_per_account_(max_per_account), max_per_ip_(max_per_ip), window_(window) {}

int LoginLimiter::blocked_for(std::unordered_map<std::string, Window>& map, const std::string& key,
                              int max, Clock::time_point now) {
  auto it = map.find(key);
  if (it == map.end()) return 0;
  if (now - it->second.start >= window_) {
    map.erase(it);
    return 0;
  }
  if (it->second.failures < max) return 0;
  auto left = std::chrono::ceil<std::chrono::seconds>(it->second.start + window_ - now);
  return std::max<int>(1, static_cast<int>(left.count()));
}

void LoginLimiter::bump(std::unordered_map<std::string, Window>& map, const std::string& key,
                        Clock::time_point now) {
  if (map.size() > 100000) {
    std::erase_if(map, [&](const auto& kv) { return now - kv.second.start >= window_; });
  }
  auto& w = map[key];
  if (w.failures == 0 || now - w.start >= window_) {
    w.failures = 0;
    w.start = now;
  }
  ++w.failures;
}

int LoginLimiter::retry_after(const std::string& account, const std::string& ip) {
  std::lock_guard lock(mu_);
  auto now = Clock::now();
  return std::max(blocked_for(accounts_, account, max_per_account_, now),
                  blocked_for(ips_, ip, max_per_ip_, now));
}

void LoginLimiter::record_failure(const std::string& account, const std::string& ip) {
  std::lock_guard lock(mu_);
  auto now = Clock::now();
  bump(accounts_, account, now);
  bump(ips_, ip, now);
}

void LoginLimiter::record_success(const std::string& account) {
  std::lock_guard lock(mu_);
  accounts_.erase(account);
}

}  // namespace vigil::auth
