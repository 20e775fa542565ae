// Access tokens: 256-bit random, handed out once, stored only as their SHA-256, with an expiry
// and revocation. Resolving a token is on every request's path, so verified tokens are cached
// in memory for a few seconds (cache_ttl): a revocation on this node takes effect at once;
// one made on another node within cache_ttl.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/user_store.h"
#include "core/principal.h"
#include "store/database.h"

namespace vigil::auth {

// kUnavailable: the store could not be asked; the caller is neither accepted nor rejected.
// kThrottled: too many failed attempts for the account or address; retry later.
enum class AuthOutcome { kOk, kMissing, kInvalid, kExpired, kDisabled, kUnavailable, kThrottled };

struct Resolved {
  AuthOutcome outcome = AuthOutcome::kMissing;
  Principal principal;    // valid when kOk
  int retry_after_s = 0;  // with kThrottled
};

class TokenService {
 public:
  TokenService(store::Database& db, std::chrono::seconds ttl,
               std::chrono::milliseconds cache_ttl = std::chrono::seconds(5));
  ~TokenService();

  struct Issued {
    std::string token;
    std::string expires_at;  // RFC 3339; empty when it never expires
  };
  // ttl: 0 = the service default; negative = never expires (watchdog tokens).
  Expected<Issued> issue(const User& user, const std::string& kind = "session",
                         std::chrono::seconds ttl = std::chrono::seconds(0));
  // The same within a transaction the caller holds (e.g. an enrollment that creates the
  // account and its token together); `default_ttl` stands for ttl 0.
  static Expected<Issued> insert(store::Session& s, int64_t user_id, const std::string& kind,
                                 std::chrono::seconds ttl, std::chrono::seconds default_ttl);
  // Blocking on a cache miss (a store query): not on an I/O thread.
  Resolved resolve(std::string_view token);
  // What resolve() would say, into `out`, when the cache can say it without the store (and for
  // a malformed token); false when only resolve() can. Never blocks.
  bool resolve_cached(std::string_view token, Resolved& out);
  // Revoking an unknown token is ok (idempotent).
  Status revoke(std::string_view token);
  Status revoke_all(int64_t user_id);
  // Drops cached entries of a user (after a role, password or disabled change).
  void forget_user(int64_t user_id);
  std::chrono::seconds ttl() const { return ttl_; }

 private:
  class Cache;
  store::Database& db_;
  std::chrono::seconds ttl_;
  std::chrono::milliseconds cache_ttl_;
  std::unique_ptr<Cache> cache_;
};

// A short-lived, process-local cache of verified Basic credentials, keyed by a keyed hash of
// email:password (the password itself is never kept), so Argon2 does not run on every request.
class BasicAuthCache {
 public:
  explicit BasicAuthCache(std::chrono::milliseconds ttl = std::chrono::seconds(60));
  ~BasicAuthCache();
  std::string key(std::string_view email, std::string_view password) const;
  bool lookup(const std::string& key, Principal& out);
  void store(const std::string& key, const Principal& p);
  void forget_user(int64_t user_id);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::auth
