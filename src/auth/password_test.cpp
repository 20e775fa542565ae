#include "auth/password.h"

#include <gtest/gtest.h>

namespace vigil::auth {
namespace {

// Small parameters keep the unit test fast; production uses the defaults.
const PasswordParams kFast{1, 8 * 1024 * 1024};

TEST(PasswordTest, HashVerifiesOnlyTheRightPassword) {
  auto hash = hash_password("correct horse", kFast);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(verify_password("correct horse", *hash));
  EXPECT_FALSE(verify_password("correct horse ", *hash));
  EXPECT_FALSE(verify_password("", *hash));
}

TEST(PasswordTest, SamePasswordGivesDifferentSalts) {
  auto a = hash_password("pw12345678", kFast);
  auto b = hash_password("pw12345678", kFast);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(PasswordTest, MalformedHashNeverVerifies) {
  EXPECT_FALSE(verify_password("x", "not a hash"));
  EXPECT_FALSE(verify_password("x", ""));
}

TEST(PasswordTest, RehashWhenParametersChange) {
  auto hash = hash_password("pw12345678", kFast);
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(password_needs_rehash(*hash, kFast));
  EXPECT_TRUE(password_needs_rehash(*hash, PasswordParams{}));
}

}  // namespace
}  // namespace vigil::auth
