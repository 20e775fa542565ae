// AccountService: every rule about user accounts, in one place, for the API and the CLI alike.
// Registration, creation, reading, listing, changing, deleting, password changes and sign-in.
//
// Each operation that changes state is one store transaction that checks its rules inside it:
// "the last active admin cannot be demoted, disabled or deleted" holds under any concurrency, on
// SQLite (writers are serialised) and on PostgreSQL (the active admins' rows are locked, in id
// order, before they are counted); an update applies all of its fields or none.
//
// Blocking (Argon2id and store round trips): call it from the blocking pool or a CLI, never from
// an I/O thread. Thread-safe. It does not own what it is given; they must outlive it.
//
// Errors: kInvalidArgument names the field (Status::field(): email, password, name, role,
// username, current_password); kNotFound for an unknown account; kAlreadyExists for a taken email
// or a taken username (that one names the field username);
// kPermissionDenied when the caller may not do this (closed registration, another user's
// account, a wrong current password, a disabled account signing in); kConflict for the last
// active admin; kUnauthenticated for a wrong email or password at sign-in; kResourceExhausted
// when sign-in is throttled; kUnavailable when the store cannot be reached.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth/login_limiter.h"
#include "auth/token_service.h"
#include "auth/user_store.h"
#include "core/principal.h"
#include "core/status.h"
#include "store/database.h"

namespace vigil::auth {

struct AccountOptions {
  bool open_registration = true;  // POST /auth/register (role user) allowed
};

// What PATCH /users/{id} may change; absent members stay as they are.
struct AccountChange {
  std::optional<std::string> name;
  std::optional<std::string> password;
  std::optional<std::string> current_password;  // required when users change their own password
  std::optional<std::string> role;
  std::optional<bool> disabled;
  // Set (admins only) to a username, or cleared (a nullopt inside).
  std::optional<std::optional<std::string>> username;
};

struct SignedIn {
  User user;
  TokenService::Issued token;  // a session token
};

// The outcome of a sign-in: ok with `signed_in`, or an error; a throttled attempt
// (kResourceExhausted) says in how many seconds it may be retried.
struct SignInResult {
  Status status;
  int retry_after_s = 0;
  std::optional<SignedIn> signed_in;
};

class AccountService {
 public:
  AccountService(store::Database& db, UserStore& users, TokenService& tokens, BasicAuthCache& basic,
                 LoginLimiter& limiter, AccountOptions options = {});

  // Self-service sign-up with role user; kPermissionDenied when registration is closed.
  Expected<User> register_account(const std::string& email, const std::string& password,
                                  const std::string& name,
                                  const std::optional<std::string>& username = std::nullopt);
  // An account with any role (admins, the CLI and the first-admin bootstrap).
  Expected<User> create(const std::string& email, const std::string& password,
                        const std::string& name, const std::string& role,
                        const std::optional<std::string>& username = std::nullopt);

  // Admins read anyone; a user only their own account (kPermissionDenied otherwise).
  Expected<User> get(const Principal& caller, int64_t id);
  // A page of accounts; with `username`, only the one that has it (ignoring case), if any.
  Expected<UserPage> list(int64_t after_id, int limit,
                          const std::optional<std::string>& username = std::nullopt);

  // Applies `change` to account `id` in one transaction. Admins may change any field of any
  // account (a username too); users only their own name and password, the password with a correct
  // current_password. The caller's own role is read again inside the transaction, so a caller
  // demoted a moment ago cannot act as an admin. Revokes the account's tokens when it is
  // disabled or its password changes (a caller changing their own password keeps the session
  // they made the change with), and drops its cached credentials.
  Expected<User> update(const Principal& caller, int64_t id, const AccountChange& change);
  // Deletes the account and its tokens (admins only: the route's permission says so).
  Status remove(int64_t id);

  // The CLI's operations, by email: set a password, change a role (same rules as update()).
  Status set_password(const std::string& email, const std::string& password);
  Expected<User> set_role(const std::string& email, const std::string& role);

  // Checks the password (the same Argon2 work whether or not the account exists, so timing does
  // not reveal accounts), applies the per-account and per-address failure limits, rehashes a
  // password made with older parameters, and issues a session token. The account is found, and
  // its failures counted, by UserStore::email_key: every spelling of one email is one account.
  SignInResult sign_in(const std::string& email, const std::string& password,
                       const std::string& remote_ip);
  // The same checks without a token, for Basic credentials: the failure limits (shared with
  // sign_in, so neither path sidesteps the other), the timing equaliser, the rehash. Ok with
  // the account in `signed_in->user` (its token empty).
  SignInResult check_password(const std::string& email, const std::string& password,
                              const std::string& remote_ip);

  // Creates the first admin unless an active admin exists (safe to run concurrently from
  // several processes). Returns the account created, or nullopt when there was one already.
  Expected<std::optional<User>> ensure_admin(const std::string& email, const std::string& password);

 private:
  // The stored hash of account `id` when `password` matches it; kPermissionDenied otherwise.
  Expected<std::string> verify_current_password(int64_t id, const std::string& password);
  // One Argon2 verification against a hash of no account (made once, with this service's
  // parameters), so an unknown email costs what a known one does.
  void spend_a_verification(const std::string& password);
  // Replaces `hash` with one made with the current parameters, unless it changed meanwhile.
  // Best effort: the old hash still verifies.
  void rehash_if_outdated(int64_t id, const std::string& hash, const std::string& password);
  // Drops the account's cached tokens and Basic credentials (after any change to it).
  void forget_credentials(int64_t id);

  store::Database& db_;
  UserStore& users_;
  TokenService& tokens_;
  BasicAuthCache& basic_;
  LoginLimiter& limiter_;
  AccountOptions options_;
  std::once_flag dummy_once_;
  std::string dummy_hash_;  // set once by spend_a_verification()
};

}  // namespace vigil::auth
