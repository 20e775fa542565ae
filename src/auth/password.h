// Password hashing with Argon2id (libsodium). Hashes are self-describing strings
// ("$argon2id$v=19$m=...,t=...,p=1$salt$hash"), so parameters can change later and old hashes
// are detected for rehash on login.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vigil::auth {

struct PasswordParams {
  unsigned long long ops_limit = 2;        // libsodium's "interactive" level:
  size_t mem_limit = 64ULL * 1024 * 1024;  // tens of milliseconds per hash
};

Expected<std::string> hash_password(std::string_view password, const PasswordParams& params = {});
// Constant-time comparison inside libsodium. false for a malformed hash.
bool verify_password(std::string_view password, const std::string& hash);
// How many verifications this process has run (Argon2 work done), e.g. to show that an unknown
// account costs the same as a wrong password.
uint64_t password_verifications();
// true when `hash` was made with other parameters than `params` (rehash on next login).
bool password_needs_rehash(const std::string& hash, const PasswordParams& params = {});

}  // namespace vigil::auth
