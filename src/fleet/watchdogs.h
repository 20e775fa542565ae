// WatchdogService: how an agent becomes a watchdog of a device. An admin makes an enrollment
// code for a device (16 characters, single use, expiring; stored only as its SHA-256); the
// agent redeems it once with a watchdog name and gets a long-lived token of role `watchdog`.
// A watchdog is an account of role watchdog (email "<name>@watchdog.invalid", no password that
// can sign in) plus its row in `watchdogs`; deleting it deletes the account, so its tokens go
// with it.
//
// Thread-safe; every method blocks on the store. Errors: kInvalidArgument names the field;
// kNotFound names the device or watchdog; kAlreadyExists for a taken watchdog name;
// kUnauthenticated for a code that is unknown, used or expired (one answer for all three);
// kUnavailable when the store is.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/token_service.h"
#include "core/status.h"
#include "fleet/device_store.h"
#include "store/database.h"

namespace vigil::fleet {

inline constexpr size_t kEnrollmentCodeLength = 16;

struct EnrollmentCode {
  std::string code;  // shown once
  std::string expires_at;
};

struct Watchdog {
  int64_t id = 0;
  std::string name;
  std::string device;
  int64_t device_id = 0;
  int64_t user_id = 0;
  std::string agent;
  std::optional<ModelRef> running;
  std::string last_seen;
  std::string created_at;
  std::string online_until;  // its session's lease (RFC 3339); empty: offline

  bool online_at(std::string_view now_rfc3339) const {
    return !online_until.empty() && online_until > now_rfc3339;
  }
};

struct Enrolled {
  Watchdog watchdog;
  std::string token;  // shown once; never expires, revoked by deleting the watchdog
};

class WatchdogService {
 public:
  WatchdogService(store::Database& db, auth::TokenService& tokens) : db_(db), tokens_(tokens) {}

  // ttl: 1 s to 30 days.
  Expected<EnrollmentCode> create_code(std::string_view device, std::chrono::seconds ttl,
                                       int64_t created_by);
  // The code as given (any case; spaces and '-' ignored).
  Expected<Enrolled> enroll(std::string_view code, std::string_view watchdog_name);
  Expected<Watchdog> get(std::string_view name);
  // The watchdog whose account this is (a caller of role watchdog); kNotFound for another.
  Expected<Watchdog> get_by_user(int64_t user_id);
  // The same for a request's caller of role watchdog: kPermissionDenied "the caller is no
  // enrolled watchdog" for an account with no watchdog (what its handlers answer 403).
  Expected<Watchdog> get_caller(int64_t user_id);
  // In id order, after `after_id`; `device`: only that device's.
  Expected<std::vector<Watchdog>> list(int limit, int64_t after_id,
                                       std::optional<std::string> device = std::nullopt);
  // Deletes the watchdog and its account; its tokens stop working at once on this node.
  Status remove(std::string_view name);

  // A fresh code: kEnrollmentCodeLength characters of an alphabet without look-alikes.
  static std::string new_code();
  // Upper case, without spaces and '-': what is hashed.
  static std::string normalise_code(std::string_view code);

 private:
  store::Database& db_;
  auth::TokenService& tokens_;
};

}  // namespace vigil::fleet
