#include "auth/password.h"

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

bool verify_password(std::string_view password, const std::string& hash) {
  if (sodium_init() < 0) return false;
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool password_needs_rehash(const std::string& hash, const PasswordParams& params) {
  return crypto_pwhash_str_needs_rehash(hash.c_str(), params.ops_limit, params.mem_limit) != 0;
}

}  // namespace vigil::auth
