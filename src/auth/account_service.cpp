#include "auth/account_service.h"

#include <algorithm>
#include <utility>

#include "auth/password.h"
#include "auth/permissions.h"
#include "core/ids.h"

namespace vigil::auth {
namespace {

bool is_active_admin(const User& u) { return u.role == kRoleAdmin && !u.disabled; }

// Whether applying `change` takes admin rights away from `target`.
bool loses_admin(const User& target, const std::optional<std::string>& role,
                 const std::optional<bool>& disabled) {
  return is_active_admin(target) && ((role && *role != kRoleAdmin) || (disabled && *disabled));
}

// The login limiter's key for an account: its email_key (for an email that is not UTF-8, and
// so names no account, the email's bytes).
std::string limiter_key(const std::string& email) {
  auto key = UserStore::email_key(email);
  return key.ok() ? std::move(*key) : email;
}

Status last_admin() { return {ErrorCode::kConflict, "this is the last active admin"}; }
Status denied(std::string message) { return {ErrorCode::kPermissionDenied, std::move(message)}; }

Status validate(const AccountChange& change) {
  if (change.name) VIGIL_RETURN_IF_ERROR(UserStore::validate_name(*change.name));
  if (change.password) VIGIL_RETURN_IF_ERROR(UserStore::validate_password(*change.password));
  if (change.role) VIGIL_RETURN_IF_ERROR(UserStore::validate_role(*change.role));
  if (change.username && *change.username) {
    VIGIL_RETURN_IF_ERROR(UserStore::validate_username(**change.username));
  }
  return {};
}

// What a caller without admin rights may change: their own name, and their own password when
// they proved the current one (not their username: an admin gives it).
Status check_user_rules(int64_t caller_id, int64_t id, const AccountChange& change,
                        bool current_password_verified) {
  if (caller_id != id) return denied("you may only read or change your own account");
  if (change.role || change.disabled) {
    return denied("only an admin can change roles or disable accounts");
  }
  if (change.username) return denied("only an admin can change usernames");
  if (change.password && !current_password_verified) {
    return denied("changing a password needs the current_password");
  }
  return {};
}

// An update whose input is checked, ready for its transaction: the columns to write and, when
// the caller proved their current password, the hash it was checked against.
struct PreparedChange {
  UserColumns columns;
  std::optional<std::string> verified_hash;
};

// Applies a prepared change in the caller's write transaction, checking the rules that depend
// on stored state: the caller's admin rights as stored now, the last active admin, a password
// changed since it was verified. Revokes the account's tokens when it is disabled or gets a
// new password.
Expected<User> apply_change(store::Session& s, store::Dialect dialect, const Principal& caller,
                            int64_t id, const AccountChange& change,
                            const PreparedChange& prepared) {
  auto admins = UserStore::lock_active_admins(s, dialect, id);
  if (!admins.ok()) return admins.status();
  const bool is_admin = std::ranges::find(*admins, caller.user_id) != admins->end();
  if (!is_admin) {
    VIGIL_RETURN_IF_ERROR(
        check_user_rules(caller.user_id, id, change, prepared.verified_hash.has_value()));
  }
  auto target = UserStore::get(s, id);
  if (!target.ok()) return target.status();
  if (loses_admin(*target, change.role, change.disabled) && admins->size() <= 1) {
    return last_admin();
  }
  if (prepared.verified_hash) {
    auto stored = UserStore::get_with_hash(s, target->email);
    if (!stored.ok()) return stored.status();
    if (stored->second != *prepared.verified_hash) return denied("current_password is wrong");
  }
  if (prepared.columns.empty()) return target;
  VIGIL_RETURN_IF_ERROR(UserStore::update(s, id, prepared.columns));
  if (change.disabled && *change.disabled) {
    VIGIL_RETURN_IF_ERROR(UserStore::revoke_tokens(s, id));
  } else if (prepared.columns.password_hash) {
    // A new password signs out every other session; the one making the change stays.
    const bool own = caller.user_id == id && !caller.token.empty();
    VIGIL_RETURN_IF_ERROR(UserStore::revoke_tokens(s, id, own ? sha256_hex(caller.token) : ""));
  }
  return UserStore::get(s, id);
}

}  // namespace

AccountService::AccountService(store::Database& db, UserStore& users, TokenService& tokens,
                               BasicAuthCache& basic, LoginLimiter& limiter, AccountOptions options)
    : db_(db),
      users_(users),
      tokens_(tokens),
      basic_(basic),
      limiter_(limiter),
      options_(options) {}

Expected<User> AccountService::register_account(const std::string& email,
                                                const std::string& password,
                                                const std::string& name,
                                                const std::optional<std::string>& username) {
  if (!options_.open_registration) return denied("registration is closed");
  return create(email, password, name, std::string(kRoleUser), username);
}

Expected<User> AccountService::create(const std::string& email, const std::string& password,
                                      const std::string& name, const std::string& role,
                                      const std::optional<std::string>& username) {
  VIGIL_RETURN_IF_ERROR(UserStore::validate_email(email));
  VIGIL_RETURN_IF_ERROR(UserStore::validate_password(password));
  VIGIL_RETURN_IF_ERROR(UserStore::validate_name(name));
  VIGIL_RETURN_IF_ERROR(UserStore::validate_role(role));
  if (username) VIGIL_RETURN_IF_ERROR(UserStore::validate_username(*username));
  auto hash = hash_password(password, users_.password_params());
  if (!hash.ok()) return hash.status();
  return store::write_returning<User>(db_, [&](store::Session& s) {
    return UserStore::insert(s, email, *hash, name, role, username);
  });
}

Expected<User> AccountService::get(const Principal& caller, int64_t id) {
  if (caller.role != kRoleAdmin && caller.user_id != id) {
    return denied("you may only read or change your own account");
  }
  return users_.get(id);
}

Expected<UserPage> AccountService::list(int64_t after_id, int limit,
                                        const std::optional<std::string>& username) {
  if (!username) return users_.list(after_id, limit);
  UserPage page;
  auto found = users_.get_by_username(*username);
  if (!found.ok() && found.status().code() != ErrorCode::kNotFound) return found.status();
  if (found.ok() && found->id > after_id) page.items.push_back(std::move(*found));
  return page;
}

Expected<User> AccountService::update(const Principal& caller, int64_t id,
                                      const AccountChange& change) {
  VIGIL_RETURN_IF_ERROR(validate(change));
  const bool claims_admin = caller.role == kRoleAdmin;
  if (!claims_admin) VIGIL_RETURN_IF_ERROR(check_user_rules(caller.user_id, id, change, true));
  if (!claims_admin && change.password && !change.current_password) {
    return invalid_field("current_password", "is required to change the password");
  }

  // Argon2 runs here, before the transaction, so no writer waits for it.
  PreparedChange prepared{
      {change.name, std::nullopt, change.role, change.disabled, change.username}, {}};
  if (!claims_admin && change.password) {
    auto hash = verify_current_password(id, *change.current_password);
    if (!hash.ok()) return hash.status();
    prepared.verified_hash = std::move(*hash);
  }
  if (change.password) {
    auto hash = hash_password(*change.password, users_.password_params());
    if (!hash.ok()) return hash.status();
    prepared.columns.password_hash = std::move(*hash);
  }

  auto updated = store::write_returning<User>(db_, [&](store::Session& s) {
    return apply_change(s, db_.dialect(), caller, id, change, prepared);
  });
  if (updated.ok()) forget_credentials(id);
  return updated;
}

Status AccountService::remove(int64_t id) {
  VIGIL_RETURN_IF_ERROR(db_.write([&](store::Session& s) -> Status {
    auto admins = UserStore::lock_active_admins(s, db_.dialect(), id);
    if (!admins.ok()) return admins.status();
    auto target = UserStore::get(s, id);
    if (!target.ok()) return target.status();
    if (is_active_admin(*target) && admins->size() <= 1) return last_admin();
    return UserStore::remove(s, id);
  }));
  forget_credentials(id);
  return {};
}

Status AccountService::set_password(const std::string& email, const std::string& password) {
  VIGIL_RETURN_IF_ERROR(UserStore::validate_password(password));
  auto hash = hash_password(password, users_.password_params());
  if (!hash.ok()) return hash.status();
  auto id = store::write_returning<int64_t>(db_, [&](store::Session& s) -> Expected<int64_t> {
    auto found = UserStore::get_with_hash(s, email);
    if (!found.ok()) return found.status();
    const int64_t user_id = found->first.id;
    VIGIL_RETURN_IF_ERROR(UserStore::update(s, user_id, {.password_hash = *hash}));
    VIGIL_RETURN_IF_ERROR(UserStore::revoke_tokens(s, user_id));
    return user_id;
  });
  if (!id.ok()) return id.status();
  forget_credentials(*id);
  return {};
}

Expected<User> AccountService::set_role(const std::string& email, const std::string& role) {
  VIGIL_RETURN_IF_ERROR(UserStore::validate_role(role));
  auto found = users_.get_with_hash(email);
  if (!found.ok()) return found.status();
  const int64_t id = found->first.id;
  auto updated = store::write_returning<User>(db_, [&](store::Session& s) -> Expected<User> {
    auto admins = UserStore::lock_active_admins(s, db_.dialect(), id);
    if (!admins.ok()) return admins.status();
    auto target = UserStore::get(s, id);
    if (!target.ok()) return target.status();
    if (loses_admin(*target, role, std::nullopt) && admins->size() <= 1) return last_admin();
    VIGIL_RETURN_IF_ERROR(UserStore::update(s, id, {.role = role}));
    return UserStore::get(s, id);
  });
  if (updated.ok()) forget_credentials(updated->id);
  return updated;
}

SignInResult AccountService::check_password(const std::string& email, const std::string& password,
                                            const std::string& remote_ip) {
  const std::string account = limiter_key(email);
  if (int wait = limiter_.retry_after(account, remote_ip); wait > 0) {
    return {{ErrorCode::kResourceExhausted,
             "too many failed sign-ins; retry in " + std::to_string(wait) + " s"},
            wait,
            std::nullopt};
  }
  auto found = users_.get_with_hash(email);
  if (!found.ok() && found.status().code() != ErrorCode::kNotFound) return {found.status()};
  if (!found.ok()) {
    spend_a_verification(password);
  }
  if (!found.ok() || !verify_password(password, found->second)) {
    limiter_.record_failure(account, remote_ip);
    return {{ErrorCode::kUnauthenticated, "wrong email or password"}};
  }
  const User& user = found->first;
  if (user.disabled) return {denied("the account is disabled")};
  limiter_.record_success(account);
  rehash_if_outdated(user.id, found->second, password);
  return {{}, 0, SignedIn{user, {}}};
}

SignInResult AccountService::sign_in(const std::string& email, const std::string& password,
                                     const std::string& remote_ip) {
  SignInResult result = check_password(email, password, remote_ip);
  if (!result.status.ok()) return result;
  auto issued = tokens_.issue(result.signed_in->user);
  if (!issued.ok()) return {issued.status()};
  result.signed_in->token = std::move(*issued);
  return result;
}

Expected<std::optional<User>> AccountService::ensure_admin(const std::string& email,
                                                           const std::string& password) {
  auto admins = users_.count_admins();
  if (!admins.ok()) return admins.status();
  if (*admins > 0) return std::optional<User>();
  VIGIL_RETURN_IF_ERROR(UserStore::validate_email(email));
  VIGIL_RETURN_IF_ERROR(UserStore::validate_password(password));
  auto hash = hash_password(password, users_.password_params());
  if (!hash.ok()) return hash.status();
  auto created = store::write_returning<std::optional<User>>(
      db_, [&](store::Session& s) -> Expected<std::optional<User>> {
        auto locked = UserStore::lock_active_admins(s, db_.dialect());
        if (!locked.ok()) return locked.status();
        if (!locked->empty()) return std::optional<User>();
        auto user = UserStore::insert(s, email, *hash, "Administrator", std::string(kRoleAdmin));
        if (!user.ok()) return user.status();
        return std::optional<User>(std::move(*user));
      });
  // Another process created it first: fine.
  if (created.status().code() == ErrorCode::kAlreadyExists) return std::optional<User>();
  return created;
}

Expected<std::string> AccountService::verify_current_password(int64_t id,
                                                              const std::string& password) {
  std::string hash;
  VIGIL_RETURN_IF_ERROR(db_.read([&](store::Session& s) -> Status {
    auto user = UserStore::get(s, id);
    if (!user.ok()) return user.status();
    auto with_hash = UserStore::get_with_hash(s, user->email);
    if (!with_hash.ok()) return with_hash.status();
    hash = std::move(with_hash->second);
    return {};
  }));
  if (!verify_password(password, hash)) return denied("current_password is wrong");
  return hash;
}

void AccountService::spend_a_verification(const std::string& password) {
  std::call_once(dummy_once_, [this] {
    auto dummy = hash_password("timing-equaliser", users_.password_params());
    if (dummy.ok()) dummy_hash_ = std::move(*dummy);
  });
  if (!dummy_hash_.empty()) (void)verify_password(password, dummy_hash_);
}

void AccountService::rehash_if_outdated(int64_t id, const std::string& hash,
                                        const std::string& password) {
  if (!password_needs_rehash(hash, users_.password_params())) return;
  auto rehashed = hash_password(password, users_.password_params());
  if (!rehashed.ok()) return;
  // Best effort: a failure leaves the old hash, which still verifies.
  (void)db_.write([&](store::Session& s) -> Status {
    return UserStore::replace_password_hash(s, id, hash, *rehashed).status();
  });
}

void AccountService::forget_credentials(int64_t id) {
  tokens_.forget_user(id);
  basic_.forget_user(id);
}

}  // namespace vigil::auth
