// Who is calling: set on a request by authentication, read by handlers and the audit log.
#pragma once

#include <cstdint>
#include <string>

namespace vigil {

struct Principal {
  int64_t user_id = 0;
  std::string email;
  std::string role;  // "admin" | "user" | "watchdog"
  std::string name;
  // How the caller authenticated: "bearer", "cookie" or "basic"; the raw token for bearer and
  // cookie (so logout can revoke it), never persisted or logged.
  std::string scheme;
  std::string token;
};

}  // namespace vigil
