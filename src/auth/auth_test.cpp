#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "auth/login_limiter.h"
#include "auth/permissions.h"
#include "auth/token_service.h"
#include "auth/user_store.h"
#include "core/ids.h"
#include "store/migrations.h"
#include "support/temp_db.h"

namespace vigil::auth {
namespace {

TEST(PermissionsTest, TableIsConsistent) {
  ASSERT_NE(find_action("public"), nullptr);
  for (const auto& a : actions()) {
    if (a.name == "public") {
      EXPECT_TRUE(a.roles.empty());
      continue;
    }
    EXPECT_FALSE(a.roles.empty()) << a.name;
    for (const auto& r : a.roles) EXPECT_TRUE(is_valid_role(r)) << a.name << " " << r;
  }
  EXPECT_TRUE(role_allows("admin", "users.write"));
  EXPECT_FALSE(role_allows("user", "users.write"));
  EXPECT_FALSE(role_allows("watchdog", "audit.read"));
  EXPECT_TRUE(role_allows("watchdog", "self"));
  EXPECT_TRUE(role_allows("anything", "public"));
  EXPECT_FALSE(role_allows("admin", "no.such.action"));
}

TEST(LoginLimiterTest, BlocksAfterFailuresPerAccountAndPerIp) {
  LoginLimiter l(3, 5, std::chrono::seconds(60));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(l.retry_after("a", "1.1.1.1"), 0);
    l.record_failure("a", "1.1.1.1");
  }
  EXPECT_GT(l.retry_after("a", "2.2.2.2"), 0);  // the account, from anywhere
  EXPECT_EQ(l.retry_after("b", "2.2.2.2"), 0);
  l.record_failure("b", "1.1.1.1");
  l.record_failure("c", "1.1.1.1");
  EXPECT_GT(l.retry_after("d", "1.1.1.1"), 0);  // the address, for any account
  EXPECT_LE(l.retry_after("d", "1.1.1.1"), 60);
}

TEST(LoginLimiterTest, SuccessClearsTheAccountAndWindowsExpire) {
  LoginLimiter l(2, 100, std::chrono::seconds(1));
  l.record_failure("a", "ip");
  l.record_success("a");
  l.record_failure("a", "ip");
  EXPECT_EQ(l.retry_after("a", "ip"), 0);
  l.record_failure("a", "ip");
  EXPECT_GT(l.retry_after("a", "ip"), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(l.retry_after("a", "ip"), 0);
}

class TokenServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sqlite_.ok());
    users_ = std::make_unique<UserStore>(*db_, PasswordParams{1, 8 * 1024 * 1024});
    auto u = users_->create("t@example.com", "password-1", "T", "user");
    ASSERT_TRUE(u.ok());
    user_ = *u;
  }
  vigil::testing::MigratedSqlite sqlite_;
  store::Database* db_ = sqlite_.db();
  std::unique_ptr<UserStore> users_;
  User user_;
};

TEST_F(TokenServiceTest, IssueResolveRevoke) {
  TokenService tokens(*db_, std::chrono::seconds(3600));
  auto issued = tokens.issue(user_);
  ASSERT_TRUE(issued.ok());
  EXPECT_GE(issued->token.size(), 43u);
  auto r = tokens.resolve(issued->token);
  ASSERT_EQ(r.outcome, AuthOutcome::kOk);
  EXPECT_EQ(r.principal.user_id, user_.id);
  EXPECT_EQ(r.principal.role, "user");
  EXPECT_EQ(tokens.resolve(issued->token).outcome, AuthOutcome::kOk);  // from the cache
  ASSERT_TRUE(tokens.revoke(issued->token).ok());
  EXPECT_EQ(tokens.resolve(issued->token).outcome, AuthOutcome::kInvalid);
  EXPECT_EQ(tokens.resolve("").outcome, AuthOutcome::kInvalid);
  EXPECT_EQ(tokens.resolve(std::string(1000, 'a')).outcome, AuthOutcome::kInvalid);
}

TEST_F(TokenServiceTest, ExpiredAndNeverExpiring) {
  TokenService tokens(*db_, std::chrono::seconds(3600), std::chrono::milliseconds(0));
  auto forever = tokens.issue(user_, "watchdog", std::chrono::seconds(-1));
  ASSERT_TRUE(forever.ok());
  EXPECT_TRUE(forever->expires_at.empty());
  EXPECT_EQ(tokens.resolve(forever->token).outcome, AuthOutcome::kOk);
  auto soon = tokens.issue(user_, "session", std::chrono::seconds(1));
  ASSERT_TRUE(soon.ok());
  ASSERT_TRUE(db_->exec("UPDATE tokens SET expires_at = $1 WHERE token_hash = $2",
                        {std::string("2000-01-01T00:00:00.000Z"), sha256_hex(soon->token)})
                  .ok());
  EXPECT_EQ(tokens.resolve(soon->token).outcome, AuthOutcome::kExpired);
}

TEST_F(TokenServiceTest, DisabledUsersAndRevokeAll) {
  TokenService tokens(*db_, std::chrono::seconds(3600));
  auto a = tokens.issue(user_);
  auto b = tokens.issue(user_);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(tokens.revoke_all(user_.id).ok());
  EXPECT_EQ(tokens.resolve(a->token).outcome, AuthOutcome::kInvalid);
  EXPECT_EQ(tokens.resolve(b->token).outcome, AuthOutcome::kInvalid);
  auto c = tokens.issue(user_);
  ASSERT_TRUE(users_->set_disabled(user_.id, true).ok());
  tokens.forget_user(user_.id);
  EXPECT_EQ(tokens.resolve(c->token).outcome, AuthOutcome::kDisabled);
}

TEST_F(TokenServiceTest, AStoreFailureIsUnavailableNotInvalid) {
  TokenService tokens(*db_, std::chrono::seconds(3600));
  auto issued = tokens.issue(user_);
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(
      db_->write([](store::Session& s) { return s.exec_script("DROP TABLE tokens"); }).ok());
  EXPECT_EQ(tokens.resolve(issued->token).outcome, AuthOutcome::kUnavailable);
}

TEST_F(TokenServiceTest, UserStoreValidatesAndFindsCaseInsensitively) {
  EXPECT_EQ(users_->create("T@EXAMPLE.com", "password-2", "", "user").status().code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(users_->create("not-an-email", "password-2", "", "user").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(users_->create("n@example.com", "short", "", "user").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(users_->create("n@example.com", "password-2", "", "root").status().code(),
            ErrorCode::kInvalidArgument);
  auto found = users_->get_with_hash("T@Example.COM");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(verify_password("password-1", found->second));
  EXPECT_EQ(users_->get(999).status().code(), ErrorCode::kNotFound);
}

TEST(UserStoreRulesTest, PasswordsNeedEightCodePointsOfUtf8) {
  const std::string e = "\xc3\xa9";              // é, two bytes
  const std::string emoji = "\xf0\x9f\x98\x80";  // U+1F600, four bytes
  auto message = [](const std::string& password) {
    return UserStore::validate_password(password).message();
  };
  const std::string too_short = "must be at least 8 characters (Unicode code points)";
  EXPECT_EQ(message(e + e + e + e + e + e + e), too_short);      // 14 bytes
  EXPECT_EQ(message(emoji + emoji + emoji + emoji), too_short);  // 16 bytes
  EXPECT_EQ(message("1234567"), too_short);
  EXPECT_TRUE(UserStore::validate_password(e + e + e + e + e + e + e + e).ok());
  EXPECT_TRUE(UserStore::validate_password("12345678").ok());
  EXPECT_EQ(message("password\xff"), "must be valid UTF-8");
  EXPECT_EQ(message("password\xed\xa0\x80"), "must be valid UTF-8");  // a surrogate
  EXPECT_EQ(UserStore::validate_password("password\xff").field(), "password");
  EXPECT_TRUE(UserStore::validate_password(std::string(1024, 'p')).ok());
  EXPECT_EQ(message(std::string(1025, 'p')), "must be at most 1024 bytes (UTF-8)");
}

TEST(UserStoreRulesTest, EmailsAreUtf8AndKeyedIgnoringCaseAndForm) {
  EXPECT_TRUE(UserStore::validate_email("\xc3\xa9va@example.com").ok());
  Status bad = UserStore::validate_email("\xff\xfe@example.com");
  EXPECT_EQ(bad.field(), "email");
  EXPECT_EQ(bad.message(), "must be valid UTF-8");
  auto key = [](const std::string& email) {
    auto k = UserStore::email_key(email);
    EXPECT_TRUE(k.ok()) << k.status().to_string();
    return k.ok() ? *k : std::string();
  };
  EXPECT_EQ(key("\xc3\x89VA@EXAMPLE.COM"), "\xc3\xa9va@example.com");
  EXPECT_EQ(key("E\xcc\x81va@Example.com"), "\xc3\xa9va@example.com");
  EXPECT_EQ(key("Mixed@Example.com"), "mixed@example.com");
  EXPECT_EQ(UserStore::email_key("a\xc3@b.c").status().field(), "email");
  // Watchdogs' accounts have this domain: no one else may take one of their emails.
  EXPECT_EQ(UserStore::validate_email("wd-1@Watchdog.Invalid").field(), "email");
  EXPECT_TRUE(UserStore::validate_email("wd-1@watchdog.invalid.example.com").ok());
}

TEST(BasicAuthCacheTest, KeysDependOnBothPartsAndEntriesExpire) {
  BasicAuthCache cache(std::chrono::milliseconds(200));
  std::string k1 = cache.key("a@b", "pw");
  EXPECT_NE(k1, cache.key("a@b", "pw2"));
  EXPECT_NE(k1, cache.key("a@bp", "w"));
  Principal p{7, "a@b", "user", "", "basic", ""};
  cache.store(k1, p);
  Principal out;
  EXPECT_TRUE(cache.lookup(k1, out));
  EXPECT_EQ(out.user_id, 7);
  cache.forget_user(7);
  EXPECT_FALSE(cache.lookup(k1, out));
  cache.store(k1, p);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_FALSE(cache.lookup(k1, out));
}

}  // namespace
}  // namespace vigil::auth
