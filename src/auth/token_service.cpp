#include "auth/token_service.h"

#include <sodium.h>

#include <array>
#include <mutex>
#include <unordered_map>

#include "core/ids.h"

namespace vigil::auth {
namespace {

using Clock = std::chrono::steady_clock;

// A sharded map from key to (principal, validity) with expiry; shards keep lock contention low
// across I/O threads.
class PrincipalCache {
 public:
  struct Entry {
    Principal principal;
    std::chrono::system_clock::time_point expires_at;  // the token's own expiry (max = never)
    Clock::time_point cached_until;
  };

  bool get(const std::string& key, Entry& out) {
    Shard& s = shard(key);
    std::lock_guard lock(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) return false;
    if (it->second.cached_until < Clock::now()) {
      s.map.erase(it);
      return false;
    }
    out = it->second;
    return true;
  }
  void put(const std::string& key, Entry e) {
    Shard& s = shard(key);
    std::lock_guard lock(s.mu);
    if (s.map.size() > 100000) s.map.clear();  // bound memory; entries are cheap to rebuild
    s.map[key] = std::move(e);
  }
  void erase(const std::string& key) {
    Shard& s = shard(key);
    std::lock_guard lock(s.mu);
    s.map.erase(key);
  }
  void erase_user(int64_t user_id) {
    for (auto& s : shards_) {
      std::lock_guard lock(s.mu);
      std::erase_if(s.map, [&](const auto& kv) { return kv.second.principal.user_id == user_id; });
    }
  }

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry> map;
  };
  Shard& shard(const std::string& key) {
    return shards_[std::hash<std::string>{}(key) % shards_.size()];
  }
  std::array<Shard, 16> shards_;
};

}  // namespace

class TokenService::Cache : public PrincipalCache {};

TokenService::TokenService(store::Database& db, std::chrono::seconds ttl,
                           std::chrono::milliseconds cache_ttl)
    : db_(db), ttl_(ttl), cache_(std::make_unique<Cache>()) {
  cache_ttl_ = cache_ttl;
}

TokenService::~TokenService() = default;

Expected<TokenService::Issued> TokenService::issue(const User& user, const std::string& kind,
                                                   std::chrono::seconds ttl) {
  std::optional<Issued> out;
  VIGIL_RETURN_IF_ERROR(db_.write([&](store::Session& s) -> Status {
    auto issued = insert(s, user.id, kind, ttl, ttl_);
    if (!issued.ok()) return issued.status();
    out = std::move(*issued);
    return {};
  }));
  return std::move(*out);
}

Expected<TokenService::Issued> TokenService::insert(store::Session& s, int64_t user_id,
                                                    const std::string& kind,
                                                    std::chrono::seconds ttl,
                                                    std::chrono::seconds default_ttl) {
  Issued out;
  out.token = random_token(32);
  auto now = std::chrono::system_clock::now();
  store::Value expires;
  if (ttl.count() >= 0) {
    out.expires_at = format_rfc3339(now + (ttl.count() == 0 ? default_ttl : ttl));
    expires = out.expires_at;
  }
  std::vector<store::Value> p{user_id, sha256_hex(out.token), kind, format_rfc3339(now), expires};
  auto n = s.exec(
      "INSERT INTO tokens (user_id, token_hash, kind, created_at, expires_at) "
      "VALUES ($1, $2, $3, $4, $5)",
      p);
  if (!n.ok()) return n.status();
  return out;
}

namespace {

void from_entry(PrincipalCache::Entry& e, Resolved& r) {
  if (e.expires_at <= std::chrono::system_clock::now()) {
    r.outcome = AuthOutcome::kExpired;
    return;
  }
  r.outcome = AuthOutcome::kOk;
  r.principal = std::move(e.principal);
}

bool malformed(std::string_view token) { return token.empty() || token.size() > 256; }

}  // namespace

bool TokenService::resolve_cached(std::string_view token, Resolved& out) {
  if (malformed(token)) {
    out.outcome = AuthOutcome::kInvalid;
    return true;
  }
  PrincipalCache::Entry e;
  if (!cache_->get(sha256_hex(token), e)) return false;
  from_entry(e, out);
  return true;
}

Resolved TokenService::resolve(std::string_view token) {
  Resolved r;
  if (malformed(token)) {
    r.outcome = AuthOutcome::kInvalid;
    return r;
  }
  std::string hash = sha256_hex(token);
  PrincipalCache::Entry e;
  if (!cache_->get(hash, e)) {
    auto rows = db_.query(
        "SELECT t.expires_at, t.revoked_at, u.id, u.email, u.role, u.name, u.disabled "
        "FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        {hash});
    if (!rows.ok()) {
      r.outcome = AuthOutcome::kUnavailable;
      return r;
    }
    if (rows->empty() || !rows->is_null(0, 1)) {
      r.outcome = AuthOutcome::kInvalid;
      return r;
    }
    if (rows->get_int(0, 6) != 0) {
      r.outcome = AuthOutcome::kDisabled;
      return r;
    }
    e.principal.user_id = rows->get_int(0, 2);
    e.principal.email = rows->get_text(0, 3);
    e.principal.role = rows->get_text(0, 4);
    e.principal.name = rows->get_text(0, 5);
    e.expires_at = std::chrono::system_clock::time_point::max();
    if (!rows->is_null(0, 0)) {
      auto t = parse_timestamp(rows->get_text(0, 0));
      e.expires_at = t ? *t : std::chrono::system_clock::time_point::min();
    }
    e.cached_until = Clock::now() + cache_ttl_;
    cache_->put(hash, e);
  }
  from_entry(e, r);
  return r;
}

Status TokenService::revoke(std::string_view token) {
  std::string hash = sha256_hex(token);
  cache_->erase(hash);
  auto n =
      db_.exec("UPDATE tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
               {now_rfc3339(), hash});
  return n.ok() ? Status() : n.status();
}

Status TokenService::revoke_all(int64_t user_id) {
  cache_->erase_user(user_id);
  auto n = db_.exec("UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
                    {now_rfc3339(), user_id});
  return n.ok() ? Status() : n.status();
}

void TokenService::forget_user(int64_t user_id) { cache_->erase_user(user_id); }

class BasicAuthCache::Impl {
 public:
  explicit Impl(std::chrono::milliseconds ttl) : ttl_(ttl) {
    if (sodium_init() >= 0) randombytes_buf(secret_.data(), secret_.size());
  }
  std::chrono::milliseconds ttl_;
  std::array<unsigned char, crypto_generichash_KEYBYTES> secret_{};
  PrincipalCache cache_;
};

BasicAuthCache::BasicAuthCache(std::chrono::milliseconds ttl)
    : impl_(std::make_unique<Impl>(ttl)) {}
BasicAuthCache::~BasicAuthCache() = default;

std::string BasicAuthCache::key(std::string_view email, std::string_view password) const {
  unsigned char out[32];
  crypto_generichash_state st;
  crypto_generichash_init(&st, impl_->secret_.data(), impl_->secret_.size(), sizeof out);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(email.data()),
                            email.size());
  const unsigned char sep = 0;
  crypto_generichash_update(&st, &sep, 1);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(password.data()),
                            password.size());
  crypto_generichash_final(&st, out, sizeof out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

bool BasicAuthCache::lookup(const std::string& key, Principal& out) {
  PrincipalCache::Entry e;
  if (!impl_->cache_.get(key, e)) return false;
  out = e.principal;
  return true;
}

void BasicAuthCache::store(const std::string& key, const Principal& p) {
  impl_->cache_.put(key,
                    {p, std::chrono::system_clock::time_point::max(), Clock::now() + impl_->ttl_});
}

void BasicAuthCache::forget_user(int64_t user_id) { impl_->cache_.erase_user(user_id); }

}  // namespace vigil::auth
