// User accounts in the store. Emails are kept as given and unique by their key (email_key()):
// equal ignoring case and Unicode canonical equivalence, so "ÉVA@EXAMPLE.COM" and
// "éva@example.com" are one account. Passwords are 8 to 1024 bytes of UTF-8 holding at least 8
// Unicode code points. A username, optional, is 1 to 64 ASCII letters, digits, '.', '_' and '-'
// starting with a letter or a digit, kept as given and unique ignoring ASCII case (users.username,
// migration 0018). Thread-safe (the Database is).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/password.h"
#include "core/status.h"
#include "store/database.h"

namespace vigil::auth {

// The domain of the accounts of watchdogs ("<name>@watchdog.invalid", made by fleet/ on
// enrollment): reserved, so no one can register a watchdog's email and take its name first.
inline constexpr std::string_view kWatchdogEmailDomain = "watchdog.invalid";

struct User {
  int64_t id = 0;
  std::string email;
  std::string name;
  std::optional<std::string> username;  // nullopt: none
  std::string role;
  std::string created_at;
  std::string updated_at;
  bool disabled = false;
};

// Columns of one account to change together; absent members stay as they are.
struct UserColumns {
  std::optional<std::string> name;
  std::optional<std::string> password_hash;
  std::optional<std::string> role;
  std::optional<bool> disabled;
  // Set to a username, or clear it (a nullopt inside).
  std::optional<std::optional<std::string>> username;
  bool empty() const { return !name && !password_hash && !role && !disabled && !username; }
};

struct UserPage {
  std::vector<User> items;
  std::optional<int64_t> next_after;  // id to continue after; nullopt on the last page
};

class UserStore {
 public:
  UserStore(store::Database& db, PasswordParams params = {});

  // kInvalidArgument with a message naming the field (email, password, role, username);
  // kAlreadyExists for a taken email or username (the latter naming the field username).
  Expected<User> create(const std::string& email, const std::string& password,
                        const std::string& name, const std::string& role,
                        const std::optional<std::string>& username = std::nullopt);
  Expected<User> get(int64_t id);
  // The account with this username, compared ignoring ASCII case. kNotFound when none (and,
  // without a query, for a string that is not a valid username).
  Expected<User> get_by_username(std::string_view username);
  // The user and their password hash, for sign-in. kNotFound when unknown.
  Expected<std::pair<User, std::string>> get_with_hash(const std::string& email);
  Expected<UserPage> list(int64_t after_id, int limit);
  // One column each, checking no rule (not the last active admin, not token revocation):
  // changes that must keep the account rules go through AccountService.
  Status set_password(int64_t id, const std::string& password);
  // Stores an already-computed hash (rehash on login).
  Status set_password_hash(int64_t id, const std::string& hash);
  Status set_role(int64_t id, const std::string& role);
  Status set_name(int64_t id, const std::string& name);
  Status set_disabled(int64_t id, bool disabled);
  Status remove(int64_t id);
  Expected<int64_t> count_admins();

  const PasswordParams& password_params() const { return params_; }

  // kInvalidArgument naming the field (email, password, name, role). An email or a password
  // must be well-formed UTF-8; an email's domain must not be kWatchdogEmailDomain; a password holds
  // at least 8 code points and at most 1024 bytes.
  static Status validate_email(const std::string& email);
  static Status validate_password(const std::string& password);
  static Status validate_name(const std::string& name);
  static Status validate_role(const std::string& role);
  static Status validate_username(std::string_view username);
  // What emails are compared by, stored beside them (users.email_key): core/unicode.h's
  // caseless_key, NFC + Unicode case folding. kInvalidArgument naming email when it is not
  // well-formed UTF-8.
  static Expected<std::string> email_key(const std::string& email);

  // The same operations on a transaction the caller holds (Database::write or read), so rules
  // can be checked and changes made in one transaction. They validate nothing.
  static Expected<User> get(store::Session& s, int64_t id);
  // kNotFound when no account has this username (compared ignoring ASCII case:
  // lower(username) = lower(?)); a string that is not a valid username names no account and is
  // not sent to the store.
  static Expected<User> get_by_username(store::Session& s, std::string_view username);
  // kNotFound when no account has this email (compared by email_key(); an email that is not
  // UTF-8 names no account and is not sent to the store).
  static Expected<std::pair<User, std::string>> get_with_hash(store::Session& s,
                                                              const std::string& email);
  // kAlreadyExists for a taken email (one with the same email_key()) or a taken username (same
  // ignoring case; that error names the field username); kInvalidArgument naming email when it
  // is not UTF-8.
  static Expected<User> insert(store::Session& s, const std::string& email,
                               const std::string& password_hash, const std::string& name,
                               const std::string& role,
                               const std::optional<std::string>& username = std::nullopt);
  // Changes every given column and updated_at in one statement; kNotFound for an unknown id,
  // kAlreadyExists naming username for a taken username.
  static Status update(store::Session& s, int64_t id, const UserColumns& columns);
  // Replaces the hash only while it is still `old_hash`; false when it was changed meanwhile.
  static Expected<bool> replace_password_hash(store::Session& s, int64_t id,
                                              const std::string& old_hash,
                                              const std::string& new_hash);
  // Deletes the account (its tokens cascade); kNotFound for an unknown id.
  static Status remove(store::Session& s, int64_t id);
  // Revokes every unrevoked token of the account but the one whose SHA-256 is `keep_hash`
  // (empty: keep none).
  static Status revoke_tokens(store::Session& s, int64_t id, const std::string& keep_hash = {});
  // The ids of the active admins, in id order. On PostgreSQL their rows and the row of account
  // `also_lock` (the one about to change, if any) stay locked (FOR UPDATE) until the
  // transaction ends: concurrent changes to them wait and are then seen, and as every lock is
  // taken by this one statement in id order, callers cannot deadlock. On SQLite, whose writers
  // are serialised, it is a plain read.
  static Expected<std::vector<int64_t>> lock_active_admins(store::Session& s,
                                                           store::Dialect dialect,
                                                           int64_t also_lock = 0);

 private:
  Status update_one(const std::string& sql, std::vector<store::Value> params);
  store::Database& db_;
  PasswordParams params_;
};

}  // namespace vigil::auth
