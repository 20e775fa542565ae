// AccountService's behaviour suite, one set of tests for every Database implementation. A test
// binary includes this header once, defines a Backend (as store/store_suite.h describes:
// set_up() gives a fresh, empty database or skips, tear_down(), url()) and instantiates it:
//
//   INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, AccountSuite, ::testing::Types<SqliteFileBackend>);
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auth/account_service.h"
#include "auth/password.h"
#include "store/database.h"
#include "store/migrations.h"
#include "support/backends.h"

namespace vigil::auth::testing {

inline const Status& status_of(const Status& s) { return s; }
template <typename T>
const Status& status_of(const Expected<T>& e) {
  return e.status();
}

#define ASSERT_ACCOUNT_OK(expr)                                            \
  do {                                                                     \
    const auto& account_result_ = (expr);                                  \
    ASSERT_TRUE(::vigil::auth::testing::status_of(account_result_).ok())   \
        << ::vigil::auth::testing::status_of(account_result_).to_string(); \
  } while (0)
#define EXPECT_ACCOUNT_OK(expr)                                            \
  do {                                                                     \
    const auto& account_result_ = (expr);                                  \
    EXPECT_TRUE(::vigil::auth::testing::status_of(account_result_).ok())   \
        << ::vigil::auth::testing::status_of(account_result_).to_string(); \
  } while (0)

// libsodium's cheapest Argon2id: the tests are about rules, not hashing.
inline constexpr PasswordParams kCheapParams{1, 64 * 1024};
inline constexpr int kMaxFailures = 3;
inline const std::string kPassword = "password-1";

template <typename Backend>
class AccountSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.set_up();
    if (IsSkipped() || HasFatalFailure()) return;
    // More connections than the racing threads, so PostgreSQL writers overlap.
    vigil::testing::open_migrated(backend_.url(), 10, db_);
    if (HasFatalFailure()) return;
    users_ = std::make_unique<UserStore>(*db_, kCheapParams);
    tokens_ = std::make_unique<TokenService>(*db_, std::chrono::hours(1));
    basic_ = std::make_unique<BasicAuthCache>();
    limiter_ = std::make_unique<LoginLimiter>(kMaxFailures, 1000, std::chrono::seconds(60));
    accounts_ = make_service({});
  }
  void TearDown() override {
    accounts_.reset();
    limiter_.reset();
    basic_.reset();
    tokens_.reset();
    users_.reset();
    db_.reset();
    backend_.tear_down();
  }

  std::unique_ptr<AccountService> make_service(AccountOptions options) {
    return std::make_unique<AccountService>(*db_, *users_, *tokens_, *basic_, *limiter_, options);
  }

  User make_user(const std::string& email, const std::string& role = "user") {
    auto user = accounts_->create(email, kPassword, "Name of " + email, role);
    EXPECT_TRUE(user.ok()) << user.status().to_string();
    return user.ok() ? *user : User{};
  }

  static Principal as(const User& u) {
    Principal p;
    p.user_id = u.id;
    p.email = u.email;
    p.role = u.role;
    p.name = u.name;
    return p;
  }

  User reload(int64_t id) {
    auto user = users_->get(id);
    EXPECT_TRUE(user.ok()) << user.status().to_string();
    return user.ok() ? *user : User{};
  }

  int64_t active_admins() {
    auto n = users_->count_admins();
    EXPECT_TRUE(n.ok()) << n.status().to_string();
    return n.ok() ? *n : -1;
  }

  bool signs_in(const std::string& email, const std::string& password) {
    return accounts_->sign_in(email, password, "10.0.0.1").status.ok();
  }

  void delete_all_users() { ASSERT_ACCOUNT_OK(db_->exec("DELETE FROM users")); }

  // Runs `ops` operations from `threads` threads at once, operation i being op(i, a, b) on
  // two fresh active admins a and b; each must succeed or fail with one of `allowed`. Then
  // exactly one active admin must remain. Repeated for `rounds` rounds.
  void race(const std::function<Status(int, const User&, const User&)>& op,
            const std::vector<ErrorCode>& allowed, int rounds = 5, int ops = 50, int threads = 8) {
    for (int round = 0; round < rounds; ++round) {
      delete_all_users();
      User a = make_user("a" + std::to_string(round) + "@example.com", "admin");
      User b = make_user("b" + std::to_string(round) + "@example.com", "admin");
      ASSERT_EQ(active_admins(), 2);
      std::atomic<int> next{0};
      std::atomic<int> succeeded{0};
      std::vector<std::string> unexpected;
      std::mutex mu;
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
          for (int i = next++; i < ops; i = next++) {
            Status s = op(i, a, b);
            if (s.ok()) {
              ++succeeded;
            } else if (std::find(allowed.begin(), allowed.end(), s.code()) == allowed.end()) {
              std::lock_guard lock(mu);
              unexpected.push_back(s.to_string());
            }
          }
        });
      }
      for (auto& t : pool) t.join();
      EXPECT_TRUE(unexpected.empty()) << "round " << round << ": " << unexpected.front();
      EXPECT_GE(succeeded.load(), 1) << "round " << round;
      EXPECT_EQ(active_admins(), 1) << "round " << round;
      if (HasFailure()) return;
    }
  }

  Backend backend_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<UserStore> users_;
  std::unique_ptr<TokenService> tokens_;
  std::unique_ptr<BasicAuthCache> basic_;
  std::unique_ptr<LoginLimiter> limiter_;
  std::unique_ptr<AccountService> accounts_;
};

TYPED_TEST_SUITE_P(AccountSuite);

TYPED_TEST_P(AccountSuite, EachValidationErrorNamesItsField) {
  AccountService& accounts = *this->accounts_;
  auto field_of = [](const auto& result) { return status_of(result).field(); };
  EXPECT_EQ(field_of(accounts.create("not-an-email", kPassword, "", "user")), "email");
  EXPECT_EQ(field_of(accounts.create("x@example.com", "short", "", "user")), "password");
  EXPECT_EQ(field_of(accounts.create("x@example.com", kPassword, std::string(201, 'n'), "user")),
            "name");
  EXPECT_EQ(field_of(accounts.create("x@example.com", kPassword, "", "root")), "role");
  EXPECT_EQ(field_of(accounts.register_account("x@", kPassword, "")), "email");

  User admin = this->make_user("admin@example.com", "admin");
  User user = this->make_user("user@example.com");
  auto as_admin = this->as(admin);
  EXPECT_EQ(field_of(accounts.update(as_admin, user.id, {.name = std::string(201, 'n')})), "name");
  EXPECT_EQ(field_of(accounts.update(as_admin, user.id, {.password = "short"})), "password");
  EXPECT_EQ(field_of(accounts.update(as_admin, user.id, {.role = "root"})), "role");
  EXPECT_EQ(field_of(accounts.update(this->as(user), user.id, {.password = "password-2"})),
            "current_password");
  EXPECT_EQ(field_of(accounts.set_password(user.email, "short")), "password");
  EXPECT_EQ(field_of(accounts.set_role(user.email, "root")), "role");
  EXPECT_EQ(accounts.update(as_admin, user.id, {.role = "root"}).status().code(),
            ErrorCode::kInvalidArgument);
}

TYPED_TEST_P(AccountSuite, CreateAndRegister) {
  User created = this->make_user("Mixed@Example.com", "watchdog");
  EXPECT_EQ(created.email, "Mixed@Example.com");  // kept as given
  EXPECT_EQ(created.role, "watchdog");
  auto taken = this->accounts_->create("mixed@example.com", kPassword, "", "user");
  EXPECT_EQ(taken.status().code(), ErrorCode::kAlreadyExists);

  auto registered = this->accounts_->register_account("new@example.com", kPassword, "New");
  ASSERT_ACCOUNT_OK(registered);
  EXPECT_EQ(registered->role, "user");
  auto closed = this->make_service({.open_registration = false});
  auto refused = closed->register_account("other@example.com", kPassword, "");
  EXPECT_EQ(refused.status().code(), ErrorCode::kPermissionDenied);
  auto by_admin = closed->create("other@example.com", kPassword, "", "user");
  EXPECT_ACCOUNT_OK(by_admin);
}

// One email in three spellings: composed (U+00E9), upper case, and decomposed upper case
// (E + U+0301), the last two only equal to the first ignoring case and normalisation.
inline const std::string kEva = "\xc3\xa9va@example.com";
inline const std::string kEvaUpper = "\xc3\x89VA@EXAMPLE.COM";
inline const std::string kEvaDecomposed = "E\xcc\x81VA@example.com";

TYPED_TEST_P(AccountSuite, EmailsAreOneAccountIgnoringCaseAndNormalisation) {
  AccountService& accounts = *this->accounts_;
  auto registered = accounts.register_account(kEva, kPassword, "Eva");
  ASSERT_ACCOUNT_OK(registered);
  EXPECT_EQ(registered->email, kEva);
  for (const std::string& spelling : {kEvaUpper, kEvaDecomposed}) {
    auto again = accounts.register_account(spelling, kPassword, "");
    EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists) << spelling;
    EXPECT_EQ(accounts.create(spelling, kPassword, "", "admin").status().code(),
              ErrorCode::kAlreadyExists)
        << spelling;
    auto signed_in = accounts.sign_in(spelling, kPassword, "10.0.0.1");
    ASSERT_ACCOUNT_OK(signed_in.status);
    EXPECT_EQ(signed_in.signed_in->user.id, registered->id);
    EXPECT_EQ(signed_in.signed_in->user.email, kEva);  // stored as given
  }
  auto promoted = accounts.set_role(kEvaUpper, "watchdog");
  ASSERT_ACCOUNT_OK(promoted);
  EXPECT_EQ(promoted->id, registered->id);
  EXPECT_ACCOUNT_OK(accounts.set_password(kEvaDecomposed, "password-2"));
  EXPECT_TRUE(this->signs_in(kEva, "password-2"));

  // Stored as the user typed it, upper case and decomposed alike.
  User upper = this->make_user("Z\xc3\x89NON@example.com");
  EXPECT_EQ(this->reload(upper.id).email, "Z\xc3\x89NON@example.com");
  EXPECT_TRUE(this->signs_in("z\xc3\xa9non@EXAMPLE.com", kPassword));
}

TYPED_TEST_P(AccountSuite, FailedSignInsCountPerAccountInAnySpelling) {
  AccountService& accounts = *this->accounts_;
  this->make_user(kEva);
  for (int i = 0; i < kMaxFailures; ++i) {
    auto wrong = accounts.sign_in(i % 2 ? kEvaUpper : kEvaDecomposed, "wrong-password",
                                  "10.0.0." + std::to_string(i));
    EXPECT_EQ(wrong.status.code(), ErrorCode::kUnauthenticated) << i;
  }
  EXPECT_EQ(accounts.sign_in(kEva, kPassword, "10.0.0.99").status.code(),
            ErrorCode::kResourceExhausted);
  EXPECT_EQ(accounts.check_password(kEvaUpper, kPassword, "10.0.0.99").status.code(),
            ErrorCode::kResourceExhausted);
}

TYPED_TEST_P(AccountSuite, PasswordsAreMeasuredInCodePoints) {
  AccountService& accounts = *this->accounts_;
  std::string seven_e, eight_e, four_emoji;
  for (int i = 0; i < 7; ++i) seven_e += "\xc3\xa9";  // 14 bytes
  eight_e = seven_e + "\xc3\xa9";
  for (int i = 0; i < 4; ++i) four_emoji += "\xf0\x9f\x98\x80";  // U+1F600: 16 bytes
  for (const std::string& too_short : {seven_e, four_emoji, std::string("1234567")}) {
    auto refused = accounts.register_account("short@example.com", too_short, "");
    EXPECT_EQ(refused.status().field(), "password") << too_short;
    EXPECT_EQ(refused.status().message(), "must be at least 8 characters (Unicode code points)");
  }
  auto not_utf8 = accounts.register_account("short@example.com", "password\xff", "");
  EXPECT_EQ(not_utf8.status().field(), "password");
  EXPECT_EQ(not_utf8.status().message(), "must be valid UTF-8");
  EXPECT_EQ(
      accounts.register_account("big@example.com", std::string(1025, 'p'), "").status().message(),
      "must be at most 1024 bytes (UTF-8)");

  auto accepted = accounts.register_account("eight@example.com", eight_e, "");
  ASSERT_ACCOUNT_OK(accepted);
  EXPECT_TRUE(this->signs_in("eight@example.com", eight_e));
  EXPECT_ACCOUNT_OK(accounts.register_account("emoji@example.com", four_emoji + four_emoji, ""));
  EXPECT_ACCOUNT_OK(accounts.register_account("long@example.com", std::string(1024, 'p'), ""));
  // Every way of setting a password keeps the rule.
  EXPECT_EQ(accounts.set_password("eight@example.com", seven_e).field(), "password");
  EXPECT_EQ(accounts
                .update(this->as(*accepted), accepted->id,
                        {.password = four_emoji, .current_password = eight_e})
                .status()
                .field(),
            "password");
  EXPECT_EQ(accounts.ensure_admin("root@example.com", seven_e).status().field(), "password");
}

TYPED_TEST_P(AccountSuite, AnEmailThatIsNotUtf8IsRefusedAndNamesNoAccount) {
  AccountService& accounts = *this->accounts_;
  for (const std::string& bad : {std::string("\xff@example.com"), std::string("a\xc3@b.c"),
                                 std::string("\xed\xa0\x80@example.com")}) {
    auto refused = accounts.register_account(bad, kPassword, "");
    EXPECT_EQ(refused.status().field(), "email");
    EXPECT_EQ(refused.status().message(), "must be valid UTF-8");
    EXPECT_EQ(accounts.create(bad, kPassword, "", "user").status().field(), "email");
    // Signing in with it is a wrong email (not a store error), and counts as a failure.
    auto wrong = accounts.sign_in(bad, kPassword, "10.0.0.1");
    EXPECT_EQ(wrong.status.code(), ErrorCode::kUnauthenticated);
    EXPECT_EQ(wrong.status.message(), "wrong email or password");
    EXPECT_EQ(accounts.set_role(bad, "user").status().code(), ErrorCode::kNotFound);
  }
}

TYPED_TEST_P(AccountSuite, UsersReadAndChangeOnlyTheirOwnAccount) {
  AccountService& accounts = *this->accounts_;
  User admin = this->make_user("admin@example.com", "admin");
  User alice = this->make_user("alice@example.com");
  User bob = this->make_user("bob@example.com");
  EXPECT_EQ(accounts.get(this->as(alice), bob.id).status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(accounts.update(this->as(alice), bob.id, {.name = "Hacked"}).status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(this->reload(bob.id).name, bob.name);

  auto own = accounts.get(this->as(alice), alice.id);
  ASSERT_ACCOUNT_OK(own);
  EXPECT_EQ(own->email, alice.email);
  auto renamed = accounts.update(this->as(alice), alice.id, {.name = "Alice"});
  ASSERT_ACCOUNT_OK(renamed);
  EXPECT_EQ(renamed->name, "Alice");
  EXPECT_ACCOUNT_OK(accounts.get(this->as(admin), bob.id));
  EXPECT_EQ(accounts.get(this->as(admin), 999999).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(accounts.update(this->as(admin), 999999, {.name = "x"}).status().code(),
            ErrorCode::kNotFound);
}

TYPED_TEST_P(AccountSuite, ChangingOwnPasswordNeedsTheCurrentOne) {
  AccountService& accounts = *this->accounts_;
  User alice = this->make_user("alice@example.com");
  auto wrong = accounts.update(this->as(alice), alice.id,
                               {.password = "password-2", .current_password = "not-it-at-all"});
  EXPECT_EQ(wrong.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(wrong.status().message(), "current_password is wrong");
  EXPECT_TRUE(this->signs_in(alice.email, kPassword));

  auto right = accounts.update(this->as(alice), alice.id,
                               {.password = "password-2", .current_password = kPassword});
  ASSERT_ACCOUNT_OK(right);
  EXPECT_TRUE(this->signs_in(alice.email, "password-2"));
  EXPECT_FALSE(this->signs_in(alice.email, kPassword));
}

TYPED_TEST_P(AccountSuite, OnlyAdminsChangeRolesOrDisable) {
  AccountService& accounts = *this->accounts_;
  User admin = this->make_user("admin@example.com", "admin");
  User alice = this->make_user("alice@example.com");
  for (const AccountChange& change :
       {AccountChange{.role = "admin"}, AccountChange{.disabled = true},
        AccountChange{.name = "Alice", .disabled = false}}) {
    auto refused = accounts.update(this->as(alice), alice.id, change);
    EXPECT_EQ(refused.status().code(), ErrorCode::kPermissionDenied);
    EXPECT_EQ(refused.status().message(), "only an admin can change roles or disable accounts");
  }
  User after = this->reload(alice.id);
  EXPECT_EQ(after.role, "user");
  EXPECT_EQ(after.name, alice.name);

  auto promoted = accounts.update(this->as(admin), alice.id, {.role = "admin"});
  ASSERT_ACCOUNT_OK(promoted);
  EXPECT_EQ(promoted->role, "admin");
}

TYPED_TEST_P(AccountSuite, ADemotedAdminNoLongerActsAsOne) {
  AccountService& accounts = *this->accounts_;
  User a = this->make_user("a@example.com", "admin");
  User b = this->make_user("b@example.com", "admin");
  User user = this->make_user("user@example.com");
  ASSERT_ACCOUNT_OK(accounts.update(this->as(a), b.id, {.role = "user"}));
  // b's principal still says admin (a token cached a moment ago); the store says otherwise.
  auto stale = this->as(b);
  for (const auto& [id, change] : {std::pair{a.id, AccountChange{.role = "user"}},
                                   std::pair{user.id, AccountChange{.name = "Renamed"}},
                                   std::pair{b.id, AccountChange{.role = "admin"}},
                                   std::pair{b.id, AccountChange{.password = "password-2"}}}) {
    EXPECT_EQ(accounts.update(stale, id, change).status().code(), ErrorCode::kPermissionDenied);
  }
  EXPECT_EQ(this->reload(user.id).name, user.name);
  EXPECT_EQ(this->reload(b.id).role, "user");
  EXPECT_EQ(this->reload(a.id).role, "admin");
  // What any user may do still works.
  EXPECT_ACCOUNT_OK(accounts.update(stale, b.id, {.name = "Bee"}));
}

TYPED_TEST_P(AccountSuite, TheLastActiveAdminStays) {
  AccountService& accounts = *this->accounts_;
  User a = this->make_user("a@example.com", "admin");
  User disabled_admin = this->make_user("off@example.com", "admin");
  ASSERT_ACCOUNT_OK(accounts.update(this->as(a), disabled_admin.id, {.disabled = true}));
  ASSERT_EQ(this->active_admins(), 1);

  auto codes = {accounts.update(this->as(a), a.id, {.role = "user"}).status().code(),
                accounts.update(this->as(a), a.id, {.disabled = true}).status().code(),
                accounts.remove(a.id).code(),
                accounts.set_role(a.email, "watchdog").status().code()};
  for (ErrorCode code : codes) EXPECT_EQ(code, ErrorCode::kConflict);
  EXPECT_EQ(accounts.remove(a.id).message(), "this is the last active admin");
  EXPECT_EQ(this->active_admins(), 1);
  // A disabled admin is no admin to keep: it may go.
  EXPECT_ACCOUNT_OK(accounts.remove(disabled_admin.id));

  User b = this->make_user("b@example.com", "admin");
  EXPECT_ACCOUNT_OK(accounts.set_role(a.email, "user"));
  EXPECT_EQ(accounts.remove(b.id).code(), ErrorCode::kConflict);
  EXPECT_EQ(this->active_admins(), 1);
}

TYPED_TEST_P(AccountSuite, ConcurrentDemotionsLeaveOneAdmin) {
  this->race(
      [this](int i, const User& a, const User& b) {
        const User& actor = i % 2 == 0 ? a : b;
        const User& target = i % 2 == 0 ? b : a;
        return this->accounts_->update(this->as(actor), target.id, {.role = "user"}).status();
      },
      {ErrorCode::kConflict, ErrorCode::kPermissionDenied});
}

TYPED_TEST_P(AccountSuite, ConcurrentDisablesLeaveOneAdmin) {
  this->race(
      [this](int i, const User& a, const User& b) {
        const User& actor = i % 2 == 0 ? a : b;
        const User& target = i % 2 == 0 ? b : a;
        return this->accounts_->update(this->as(actor), target.id, {.disabled = true}).status();
      },
      {ErrorCode::kConflict, ErrorCode::kPermissionDenied});
}

TYPED_TEST_P(AccountSuite, ConcurrentDeletesLeaveOneAdmin) {
  this->race([this](int i, const User& a,
                    const User& b) { return this->accounts_->remove(i % 2 == 0 ? b.id : a.id); },
             {ErrorCode::kConflict, ErrorCode::kNotFound});
}

TYPED_TEST_P(AccountSuite, ConcurrentMixedChangesLeaveOneAdmin) {
  this->race(
      [this](int i, const User& a, const User& b) {
        const User& actor = i % 2 == 0 ? a : b;
        const User& target = i % 2 == 0 ? b : a;
        switch (i % 3) {
          case 0: return this->accounts_->remove(target.id);
          case 1: return this->accounts_->set_role(target.email, "watchdog").status();
          default:
            return this->accounts_->update(this->as(actor), target.id, {.disabled = true}).status();
        }
      },
      {ErrorCode::kConflict, ErrorCode::kPermissionDenied, ErrorCode::kNotFound});
}

TYPED_TEST_P(AccountSuite, AnUpdateAppliesAllOfItsFieldsOrNone) {
  AccountService& accounts = *this->accounts_;
  User admin = this->make_user("admin@example.com", "admin");
  User alice = this->make_user("alice@example.com");
  auto as_admin = this->as(admin);

  // The last field is invalid: nothing before it is applied.
  auto invalid = accounts.update(as_admin, alice.id,
                                 {.name = "Renamed", .password = "password-2", .role = "root"});
  EXPECT_EQ(invalid.status().field(), "role");
  // A rule refuses it inside the transaction: nothing is applied either.
  auto refused = accounts.update(as_admin, admin.id,
                                 {.name = "Renamed", .password = "password-2", .role = "user"});
  EXPECT_EQ(refused.status().code(), ErrorCode::kConflict);
  EXPECT_EQ(this->reload(alice.id).name, alice.name);
  EXPECT_EQ(this->reload(admin.id).name, admin.name);
  EXPECT_TRUE(this->signs_in(alice.email, kPassword));
  EXPECT_TRUE(this->signs_in(admin.email, kPassword));

  // The store fails after the users row was changed (revoking tokens, whose table is gone):
  // the whole update is rolled back.
  ASSERT_ACCOUNT_OK(this->db_->exec("DROP TABLE tokens"));
  auto failed = accounts.update(as_admin, alice.id, {.name = "Renamed", .disabled = true});
  EXPECT_FALSE(failed.ok());
  User after = this->reload(alice.id);
  EXPECT_EQ(after.name, alice.name);
  EXPECT_FALSE(after.disabled);

  auto applied = accounts.update(as_admin, alice.id, {.name = "Renamed", .role = "watchdog"});
  ASSERT_ACCOUNT_OK(applied);
  EXPECT_EQ(applied->name, "Renamed");
  EXPECT_EQ(applied->role, "watchdog");
}

TYPED_TEST_P(AccountSuite, DisablingOrANewPasswordRevokesTokens) {
  AccountService& accounts = *this->accounts_;
  User admin = this->make_user("admin@example.com", "admin");
  User alice = this->make_user("alice@example.com");
  User bob = this->make_user("bob@example.com");
  auto alice_token = this->tokens_->issue(alice);
  auto bob_token = this->tokens_->issue(bob);
  ASSERT_ACCOUNT_OK(alice_token);
  ASSERT_ACCOUNT_OK(bob_token);
  // Resolved once, so a cached principal would answer if the service forgot to drop it.
  ASSERT_EQ(this->tokens_->resolve(alice_token->token).outcome, AuthOutcome::kOk);
  ASSERT_EQ(this->tokens_->resolve(bob_token->token).outcome, AuthOutcome::kOk);

  ASSERT_ACCOUNT_OK(accounts.update(this->as(admin), alice.id, {.disabled = true}));
  EXPECT_NE(this->tokens_->resolve(alice_token->token).outcome, AuthOutcome::kOk);
  EXPECT_EQ(this->tokens_->resolve(bob_token->token).outcome, AuthOutcome::kOk);
  // Enabling again does not bring the revoked token back.
  ASSERT_ACCOUNT_OK(accounts.update(this->as(admin), alice.id, {.disabled = false}));
  EXPECT_NE(this->tokens_->resolve(alice_token->token).outcome, AuthOutcome::kOk);

  ASSERT_ACCOUNT_OK(accounts.set_password(bob.email, "password-2"));
  EXPECT_NE(this->tokens_->resolve(bob_token->token).outcome, AuthOutcome::kOk);
  EXPECT_TRUE(this->signs_in(bob.email, "password-2"));
}

// A user changing their own password stays signed in with the session they did it from; every
// other session of theirs ends.
TYPED_TEST_P(AccountSuite, ANewPasswordKeepsOnlyTheSessionThatSetIt) {
  AccountService& accounts = *this->accounts_;
  User alice = this->make_user("alice@example.com");
  auto here = this->tokens_->issue(alice);
  auto elsewhere = this->tokens_->issue(alice);
  ASSERT_ACCOUNT_OK(here);
  ASSERT_ACCOUNT_OK(elsewhere);
  Principal caller = this->as(alice);
  caller.token = here->token;
  ASSERT_ACCOUNT_OK(
      accounts.update(caller, alice.id, {.password = "password-2", .current_password = kPassword}));
  EXPECT_EQ(this->tokens_->resolve(here->token).outcome, AuthOutcome::kOk);
  EXPECT_NE(this->tokens_->resolve(elsewhere->token).outcome, AuthOutcome::kOk);
  EXPECT_TRUE(this->signs_in(alice.email, "password-2"));
}

TYPED_TEST_P(AccountSuite, RemoveDeletesTheAccountAndItsTokens) {
  AccountService& accounts = *this->accounts_;
  this->make_user("admin@example.com", "admin");
  User alice = this->make_user("alice@example.com");
  auto token = this->tokens_->issue(alice);
  ASSERT_ACCOUNT_OK(token);
  ASSERT_EQ(this->tokens_->resolve(token->token).outcome, AuthOutcome::kOk);
  ASSERT_ACCOUNT_OK(accounts.remove(alice.id));
  EXPECT_NE(this->tokens_->resolve(token->token).outcome, AuthOutcome::kOk);
  EXPECT_EQ(this->users_->get(alice.id).status().code(), ErrorCode::kNotFound);
  auto tokens_left = this->db_->query("SELECT COUNT(*) FROM tokens WHERE user_id = $1", {alice.id});
  ASSERT_ACCOUNT_OK(tokens_left);
  EXPECT_EQ(tokens_left->get_int(0, 0), 0);
  EXPECT_EQ(accounts.remove(alice.id).code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(AccountSuite, SignInChecksThePasswordAndIssuesASession) {
  AccountService& accounts = *this->accounts_;
  User alice = this->make_user("alice@example.com");
  auto result = accounts.sign_in("ALICE@example.com", kPassword, "10.0.0.1");
  ASSERT_ACCOUNT_OK(result.status);
  ASSERT_TRUE(result.signed_in.has_value());
  EXPECT_EQ(result.signed_in->user.id, alice.id);
  Resolved resolved = this->tokens_->resolve(result.signed_in->token.token);
  ASSERT_EQ(resolved.outcome, AuthOutcome::kOk);
  EXPECT_EQ(resolved.principal.user_id, alice.id);

  auto unknown = accounts.sign_in("nobody@example.com", kPassword, "10.0.0.1");
  EXPECT_EQ(unknown.status.code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(unknown.status.message(), "wrong email or password");
  EXPECT_FALSE(unknown.signed_in.has_value());
  auto wrong = accounts.sign_in(alice.email, "password-2", "10.0.0.1");
  EXPECT_EQ(wrong.status.code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(wrong.status.message(), unknown.status.message());
}

TYPED_TEST_P(AccountSuite, WrongPasswordsAreThrottled) {
  AccountService& accounts = *this->accounts_;
  User alice = this->make_user("alice@example.com");
  for (int i = 0; i < kMaxFailures; ++i) {
    auto wrong = accounts.sign_in(i % 2 ? "Alice@Example.com" : alice.email, "wrong-password",
                                  "10.0.0." + std::to_string(i));
    EXPECT_EQ(wrong.status.code(), ErrorCode::kUnauthenticated) << i;
  }
  // Throttled before the password is checked, from any address, even with the right password.
  auto throttled = accounts.sign_in(alice.email, kPassword, "10.0.0.99");
  EXPECT_EQ(throttled.status.code(), ErrorCode::kResourceExhausted);
  EXPECT_GT(throttled.retry_after_s, 0);
  EXPECT_EQ(throttled.status.message(),
            "too many failed sign-ins; retry in " + std::to_string(throttled.retry_after_s) + " s");
  EXPECT_FALSE(throttled.signed_in.has_value());
  User bob = this->make_user("bob@example.com");
  EXPECT_TRUE(this->signs_in(bob.email, kPassword));
}

TYPED_TEST_P(AccountSuite, ADisabledAccountCannotSignIn) {
  User admin = this->make_user("admin@example.com", "admin");
  User alice = this->make_user("alice@example.com");
  ASSERT_ACCOUNT_OK(this->accounts_->update(this->as(admin), alice.id, {.disabled = true}));
  auto refused = this->accounts_->sign_in(alice.email, kPassword, "10.0.0.1");
  EXPECT_EQ(refused.status.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(refused.status.message(), "the account is disabled");
  EXPECT_FALSE(refused.signed_in.has_value());
}

TYPED_TEST_P(AccountSuite, SignInRehashesAnOutdatedHash) {
  User alice = this->make_user("alice@example.com");
  auto weak = hash_password(kPassword, PasswordParams{1, 8 * 1024});  // libsodium's minimum
  ASSERT_ACCOUNT_OK(weak);
  ASSERT_TRUE(password_needs_rehash(*weak, kCheapParams));
  ASSERT_ACCOUNT_OK(this->users_->set_password_hash(alice.id, *weak));

  ASSERT_TRUE(this->signs_in(alice.email, kPassword));
  auto stored = this->users_->get_with_hash(alice.email);
  ASSERT_ACCOUNT_OK(stored);
  EXPECT_NE(stored->second, *weak);
  EXPECT_FALSE(password_needs_rehash(stored->second, kCheapParams));
  EXPECT_TRUE(verify_password(kPassword, stored->second));
  EXPECT_TRUE(this->signs_in(alice.email, kPassword));
}

TYPED_TEST_P(AccountSuite, CliOperationsByEmail) {
  AccountService& accounts = *this->accounts_;
  this->make_user("admin@example.com", "admin");
  User alice = this->make_user("alice@example.com");
  auto promoted = accounts.set_role("ALICE@example.com", "admin");
  ASSERT_ACCOUNT_OK(promoted);
  EXPECT_EQ(promoted->id, alice.id);
  EXPECT_EQ(promoted->role, "admin");
  EXPECT_EQ(accounts.set_role("nobody@example.com", "user").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(accounts.set_password("nobody@example.com", "password-2").code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(AccountSuite, EnsureAdminIsIdempotent) {
  AccountService& accounts = *this->accounts_;
  auto first = accounts.ensure_admin("root@example.com", kPassword);
  ASSERT_ACCOUNT_OK(first);
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->role, "admin");
  auto second = accounts.ensure_admin("root@example.com", kPassword);
  ASSERT_ACCOUNT_OK(second);
  EXPECT_FALSE(second->has_value());
  EXPECT_EQ(this->active_admins(), 1);

  // From several threads at once on an empty store: one creates, the others find it.
  this->delete_all_users();
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto result = accounts.ensure_admin("root@example.com", kPassword);
      EXPECT_TRUE(result.ok()) << result.status().to_string();
      if (result.ok() && result->has_value()) ++created;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(this->active_admins(), 1);
}

TYPED_TEST_P(AccountSuite, UsernamesAreOptionalAndUniqueIgnoringCase) {
  AccountService& accounts = *this->accounts_;
  auto registered = accounts.register_account("ann@example.com", kPassword, "Ann", "Ann.Lee-1");
  ASSERT_ACCOUNT_OK(registered);
  EXPECT_EQ(registered->username, "Ann.Lee-1");  // kept as given
  EXPECT_EQ(this->reload(registered->id).username, "Ann.Lee-1");
  // None is nullopt, for any number of accounts.
  EXPECT_EQ(this->make_user("x@example.com").username, std::nullopt);
  EXPECT_EQ(this->make_user("y@example.com").username, std::nullopt);

  UserStore& store = *this->users_;
  auto found = store.get_by_username("ANN.lee-1");
  ASSERT_ACCOUNT_OK(found);
  EXPECT_EQ(found->id, registered->id);
  EXPECT_EQ(found->username, "Ann.Lee-1");
  EXPECT_EQ(store.get_by_username("ann").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store.get_by_username("").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store.get_by_username("ann lee").status().code(), ErrorCode::kNotFound);
  std::optional<User> in_session;
  ASSERT_ACCOUNT_OK(this->db_->read([&](store::Session& s) -> Status {
    auto found = UserStore::get_by_username(s, "ann.LEE-1");
    if (found.ok()) in_session = *found;
    return found.status();
  }));
  EXPECT_EQ(in_session->id, registered->id);

  // Taken ignoring case: kAlreadyExists naming username, at creation or on a change; a taken
  // email is still about the email.
  auto taken = accounts.create("bob@example.com", kPassword, "", "user", "ANN.LEE-1");
  EXPECT_EQ(taken.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(taken.status().field(), "username");
  EXPECT_NE(taken.status().message().find("username"), std::string::npos);
  auto email_taken = accounts.create("ANN@example.com", kPassword, "", "user", "other");
  EXPECT_EQ(email_taken.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(email_taken.status().field(), "");
  EXPECT_NE(email_taken.status().message().find("email"), std::string::npos);
}

TYPED_TEST_P(AccountSuite, AdminsSetChangeAndClearUsernames) {
  AccountService& accounts = *this->accounts_;
  User admin = this->make_user("admin@example.com", "admin");
  User user = this->make_user("user@example.com");
  User other = this->make_user("other@example.com");
  auto as_admin = this->as(admin);

  auto set = accounts.update(as_admin, user.id, {.username = std::optional<std::string>("bea")});
  ASSERT_ACCOUNT_OK(set);
  EXPECT_EQ(set->username, "bea");
  auto changed =
      accounts.update(as_admin, user.id, {.username = std::optional<std::string>("Bea_2")});
  ASSERT_ACCOUNT_OK(changed);
  EXPECT_EQ(this->reload(user.id).username, "Bea_2");
  EXPECT_EQ(this->users_->get_by_username("bea").status().code(), ErrorCode::kNotFound);

  // Taken ignoring case: refused naming username, and nothing of the change is applied.
  auto taken = accounts.update(
      as_admin, other.id, {.name = "Renamed", .username = std::optional<std::string>("BEA_2")});
  EXPECT_EQ(taken.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(taken.status().field(), "username");
  EXPECT_EQ(this->reload(other.id).name, other.name);
  // Changing only its case is the same account's own username: fine.
  EXPECT_ACCOUNT_OK(
      accounts.update(as_admin, user.id, {.username = std::optional<std::string>("bea_2")}));

  // Cleared: the name is free again.
  auto cleared = accounts.update(
      as_admin, user.id,
      {.username = std::optional<std::optional<std::string>>(std::optional<std::string>())});
  ASSERT_ACCOUNT_OK(cleared);
  EXPECT_EQ(cleared->username, std::nullopt);
  EXPECT_EQ(this->reload(user.id).username, std::nullopt);
  EXPECT_ACCOUNT_OK(
      accounts.update(as_admin, other.id, {.username = std::optional<std::string>("BEA_2")}));

  // Users do not give themselves one.
  auto self =
      accounts.update(this->as(user), user.id, {.username = std::optional<std::string>("me")});
  EXPECT_EQ(self.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(this->reload(user.id).username, std::nullopt);
}

TYPED_TEST_P(AccountSuite, AnInvalidUsernameNamesItsField) {
  AccountService& accounts = *this->accounts_;
  User admin = this->make_user("admin@example.com", "admin");
  User user = this->make_user("user@example.com");
  const std::vector<std::string> invalid{
      "", std::string(65, 'u'), "-lead", ".lead", "_lead", "has space", "s\u00e9", "a/b", "a@b"};
  for (const std::string& bad : invalid) {
    auto created = accounts.create("n@example.com", kPassword, "", "user", bad);
    EXPECT_EQ(created.status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(created.status().field(), "username") << bad;
    EXPECT_EQ(accounts.register_account("n@example.com", kPassword, "", bad).status().field(),
              "username")
        << bad;
    auto changed =
        accounts.update(this->as(admin), user.id, {.username = std::optional<std::string>(bad)});
    EXPECT_EQ(changed.status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(changed.status().field(), "username") << bad;
    EXPECT_EQ(this->users_->get_by_username(bad).status().code(), ErrorCode::kNotFound) << bad;
  }
  const std::vector<std::string> valid{"u", std::string(64, 'u'), "0day", "a.b_c-d", "Zed"};
  for (const std::string& good : valid) {
    EXPECT_ACCOUNT_OK(
        accounts.update(this->as(admin), user.id, {.username = std::optional<std::string>(good)}));
  }
}

REGISTER_TYPED_TEST_SUITE_P(
    AccountSuite, EachValidationErrorNamesItsField, CreateAndRegister,
    EmailsAreOneAccountIgnoringCaseAndNormalisation, FailedSignInsCountPerAccountInAnySpelling,
    PasswordsAreMeasuredInCodePoints, AnEmailThatIsNotUtf8IsRefusedAndNamesNoAccount,
    UsersReadAndChangeOnlyTheirOwnAccount, ChangingOwnPasswordNeedsTheCurrentOne,
    OnlyAdminsChangeRolesOrDisable, ADemotedAdminNoLongerActsAsOne, TheLastActiveAdminStays,
    ConcurrentDemotionsLeaveOneAdmin, ConcurrentDisablesLeaveOneAdmin,
    ConcurrentDeletesLeaveOneAdmin, ConcurrentMixedChangesLeaveOneAdmin,
    AnUpdateAppliesAllOfItsFieldsOrNone, DisablingOrANewPasswordRevokesTokens,
    ANewPasswordKeepsOnlyTheSessionThatSetIt, RemoveDeletesTheAccountAndItsTokens,
    SignInChecksThePasswordAndIssuesASession, WrongPasswordsAreThrottled,
    ADisabledAccountCannotSignIn, SignInRehashesAnOutdatedHash, CliOperationsByEmail,
    EnsureAdminIsIdempotent, UsernamesAreOptionalAndUniqueIgnoringCase,
    AdminsSetChangeAndClearUsernames, AnInvalidUsernameNamesItsField);

}  // namespace vigil::auth::testing
