#include "auth/password.h"

#include <atomic>

#include <sodium.h>

namespace vigil::auth {

Expected<std::string> hash_password(std::string_view password, const PasswordParams& params) {
  if (sodium_init() < 0) return internal_error("libsodium failed to initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.ops_limit,
                            params.mem_limit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status(ErrorCode::kResourceExhausted, "not enough memory to hash a password");
  }
  return std::string(out);
}

namespace {
std::atomic<uint64_t> verifications{0};
}  // namespace

uint64_t password_verifications() { return verifications.load(std::memory_order_relaxed); }

bool verify_password(std::string_view password, const std::string& hash) {
  if (sodium_init() < 0) return false;
  verifications.fetch_add(1, std::memory_order_relaxed);
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool password_needs_rehash(const std::string& hash, const PasswordParams& params) {
  return crypto_pwhash_str_needs_rehash(hash.c_str(), params.ops_limit, params.mem_limit) != 0;
}

}  // namespace vigil::auth
