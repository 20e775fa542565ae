#include "auth/user_store.h"

#include "auth/permissions.h"
#include "core/ids.h"
#include "core/names.h"
#include "core/strings.h"
#include "core/unicode.h"

namespace vigil::auth {
namespace {

constexpr const char* kColumns =
    "id, email, name, role, created_at, updated_at, disabled, username";
constexpr size_t kHashColumn = 8;  // after kColumns, where a query asks for password_hash
constexpr size_t kMinPasswordCodePoints = 8;
constexpr size_t kMaxPasswordBytes = 1024;

User row_to_user(const store::Rows& rows, size_t i) {
  User u;
  u.id = rows.get_int(i, 0);
  u.email = rows.get_text(i, 1);
  u.name = rows.get_text(i, 2);
  u.role = rows.get_text(i, 3);
  u.created_at = rows.get_text(i, 4);
  u.updated_at = rows.get_text(i, 5);
  u.disabled = rows.get_int(i, 6) != 0;
  if (!rows.is_null(i, 7)) u.username = rows.get_text(i, 7);
  return u;
}

store::Value username_value(const std::optional<std::string>& username) {
  return username ? store::Value(*username) : store::Value(std::monostate{});
}

// A unique violation on users: a taken username (its index, users_username_lower, is named in
// the store's message on SQLite and PostgreSQL alike) or else a taken email.
Status taken(const Status& violation) {
  if (violation.message().find("users_username_lower") != std::string::npos) {
    return {ErrorCode::kAlreadyExists, "username",
            "is taken by another user (usernames are compared ignoring case)"};
  }
  return already_exists("a user with this email exists");
}

}  // namespace

UserStore::UserStore(store::Database& db, PasswordParams params) : db_(db), params_(params) {}

Status UserStore::validate_email(const std::string& email) {
  auto at = email.find('@');
  if (email.size() > 254 || at == std::string::npos || at == 0 || at + 1 >= email.size() ||
      email.find('@', at + 1) != std::string::npos) {
    return invalid_field("email", "not an email address");
  }
  for (char c : email) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return invalid_field("email", "must not contain spaces or control characters");
    }
  }
  if (!utf8_code_points(email)) return invalid_field("email", "must be valid UTF-8");
  if (iequals(std::string_view(email).substr(at + 1), kWatchdogEmailDomain)) {
    return invalid_field("email", "the domain " + std::string(kWatchdogEmailDomain) +
                                      " is reserved for watchdog accounts");
  }
  return {};
}

Status UserStore::validate_password(const std::string& password) {
  if (password.size() > kMaxPasswordBytes) {
    return invalid_field("password", "must be at most 1024 bytes (UTF-8)");
  }
  auto length = utf8_code_points(password);
  if (!length) return invalid_field("password", "must be valid UTF-8");
  if (*length < kMinPasswordCodePoints) {
    return invalid_field("password", "must be at least 8 characters (Unicode code points)");
  }
  return {};
}

Status UserStore::validate_name(const std::string& name) {
  if (name.size() > 200) return invalid_field("name", "must be at most 200 characters");
  return {};
}

Status UserStore::validate_role(const std::string& role) {
  if (!is_valid_role(role)) return invalid_field("role", "must be admin, user or watchdog");
  return {};
}

Status UserStore::validate_username(std::string_view username) {
  if (auto why = name_error(username)) return invalid_field("username", *why);
  if (username.front() == '.' || username.front() == '_' || username.front() == '-') {
    return invalid_field("username", "must start with a letter or a digit");
  }
  return {};
}

Expected<User> UserStore::create(const std::string& email, const std::string& password,
                                 const std::string& name, const std::string& role,
                                 const std::optional<std::string>& username) {
  VIGIL_RETURN_IF_ERROR(validate_email(email));
  VIGIL_RETURN_IF_ERROR(validate_password(password));
  VIGIL_RETURN_IF_ERROR(validate_role(role));
  VIGIL_RETURN_IF_ERROR(validate_name(name));
  if (username) VIGIL_RETURN_IF_ERROR(validate_username(*username));
  auto hash = hash_password(password, params_);
  if (!hash.ok()) return hash.status();
  std::optional<User> created;
  VIGIL_RETURN_IF_ERROR(db_.write([&](store::Session& s) -> Status {
    auto user = insert(s, email, *hash, name, role, username);
    if (!user.ok()) return user.status();
    created = std::move(*user);
    return {};
  }));
  return std::move(*created);
}

Expected<User> UserStore::get(int64_t id) {
  std::optional<User> found;
  VIGIL_RETURN_IF_ERROR(db_.read([&](store::Session& s) -> Status {
    auto user = get(s, id);
    if (!user.ok()) return user.status();
    found = std::move(*user);
    return {};
  }));
  return std::move(*found);
}

Expected<User> UserStore::get_by_username(std::string_view username) {
  return store::read_returning<User>(
      db_, [&](store::Session& s) { return get_by_username(s, username); });
}

Expected<std::pair<User, std::string>> UserStore::get_with_hash(const std::string& email) {
  std::optional<std::pair<User, std::string>> found;
  VIGIL_RETURN_IF_ERROR(db_.read([&](store::Session& s) -> Status {
    auto user = get_with_hash(s, email);
    if (!user.ok()) return user.status();
    found = std::move(*user);
    return {};
  }));
  return std::move(*found);
}

Expected<UserPage> UserStore::list(int64_t after_id, int limit) {
  auto rows = db_.query(
      std::string("SELECT ") + kColumns + " FROM users WHERE id > $1 ORDER BY id LIMIT $2",
      {after_id, static_cast<int64_t>(limit) + 1});
  if (!rows.ok()) return rows.status();
  UserPage page;
  for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(limit); ++i) {
    page.items.push_back(row_to_user(*rows, i));
  }
  if (rows->size() > static_cast<size_t>(limit)) page.next_after = page.items.back().id;
  return page;
}

Status UserStore::update_one(const std::string& sql, std::vector<store::Value> params) {
  auto n = db_.exec(sql, std::move(params));
  if (!n.ok()) return n.status();
  if (*n == 0) return not_found("no such user");
  return {};
}

Status UserStore::set_password(int64_t id, const std::string& password) {
  VIGIL_RETURN_IF_ERROR(validate_password(password));
  auto hash = hash_password(password, params_);
  if (!hash.ok()) return hash.status();
  return set_password_hash(id, *hash);
}

Status UserStore::set_password_hash(int64_t id, const std::string& hash) {
  return update_one("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3",
                    {hash, now_rfc3339(), id});
}

Status UserStore::set_role(int64_t id, const std::string& role) {
  VIGIL_RETURN_IF_ERROR(validate_role(role));
  return update_one("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3",
                    {role, now_rfc3339(), id});
}

Status UserStore::set_name(int64_t id, const std::string& name) {
  VIGIL_RETURN_IF_ERROR(validate_name(name));
  return update_one("UPDATE users SET name = $1, updated_at = $2 WHERE id = $3",
                    {name, now_rfc3339(), id});
}

Status UserStore::set_disabled(int64_t id, bool disabled) {
  return update_one("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3",
                    {int64_t{disabled ? 1 : 0}, now_rfc3339(), id});
}

Status UserStore::remove(int64_t id) { return update_one("DELETE FROM users WHERE id = $1", {id}); }

Expected<int64_t> UserStore::count_admins() {
  auto rows = db_.query("SELECT COUNT(*) FROM users WHERE role = $1 AND disabled = 0",
                        {std::string(kRoleAdmin)});
  if (!rows.ok()) return rows.status();
  return rows->get_int(0, 0);
}

Expected<User> UserStore::get(store::Session& s, int64_t id) {
  auto rows = s.query(std::string("SELECT ") + kColumns + " FROM users WHERE id = $1", {{id}});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return not_found("no user " + std::to_string(id));
  return row_to_user(*rows, 0);
}

Expected<User> UserStore::get_by_username(store::Session& s, std::string_view username) {
  if (!validate_username(username).ok()) return not_found("no such user");
  auto rows =
      s.query(std::string("SELECT ") + kColumns + " FROM users WHERE lower(username) = lower($1)",
              {{std::string(username)}});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return not_found("no user with username " + std::string(username));
  return row_to_user(*rows, 0);
}

Expected<std::string> UserStore::email_key(const std::string& email) {
  auto key = caseless_key(email);
  if (key.status().code() == ErrorCode::kInvalidArgument) {
    return invalid_field("email", "must be valid UTF-8");
  }
  return key;
}

Expected<std::pair<User, std::string>> UserStore::get_with_hash(store::Session& s,
                                                                const std::string& email) {
  auto key = email_key(email);
  if (key.status().code() == ErrorCode::kInvalidArgument) return not_found("no such user");
  if (!key.ok()) return key.status();
  auto rows =
      s.query(std::string("SELECT ") + kColumns + ", password_hash FROM users WHERE email_key = $1",
              {{*key}});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return not_found("no such user");
  return std::make_pair(row_to_user(*rows, 0), rows->get_text(0, kHashColumn));
}

Expected<User> UserStore::insert(store::Session& s, const std::string& email,
                                 const std::string& password_hash, const std::string& name,
                                 const std::string& role,
                                 const std::optional<std::string>& username) {
  auto key = email_key(email);
  if (!key.ok()) return key.status();
  std::string now = now_rfc3339();
  std::vector<store::Value> params{email, *key, name, password_hash,
                                   role,  now,  now,  username_value(username)};
  auto rows = s.query(std::string("INSERT INTO users (email, email_key, name, password_hash, role, "
                                  "created_at, updated_at, username) "
                                  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ") +
                          kColumns,
                      params);
  if (!rows.ok()) {
    if (rows.status().code() == ErrorCode::kAlreadyExists) return taken(rows.status());
    return rows.status();
  }
  return row_to_user(*rows, 0);
}

Status UserStore::update(store::Session& s, int64_t id, const UserColumns& columns) {
  std::string sql = "UPDATE users SET updated_at = $1";
  std::vector<store::Value> params{now_rfc3339()};
  auto set = [&](const char* column, store::Value value) {
    params.push_back(std::move(value));
    sql += std::string(", ") + column + " = $" + std::to_string(params.size());
  };
  if (columns.name) set("name", *columns.name);
  if (columns.password_hash) set("password_hash", *columns.password_hash);
  if (columns.role) set("role", *columns.role);
  if (columns.disabled) set("disabled", int64_t{*columns.disabled ? 1 : 0});
  if (columns.username) set("username", username_value(*columns.username));
  params.push_back(id);
  sql += " WHERE id = $" + std::to_string(params.size());
  auto n = s.exec(sql, params);
  if (!n.ok()) {
    if (n.status().code() == ErrorCode::kAlreadyExists) return taken(n.status());
    return n.status();
  }
  if (*n == 0) return not_found("no user " + std::to_string(id));
  return {};
}

Expected<bool> UserStore::replace_password_hash(store::Session& s, int64_t id,
                                                const std::string& old_hash,
                                                const std::string& new_hash) {
  std::vector<store::Value> params{new_hash, now_rfc3339(), id, old_hash};
  auto n = s.exec(
      "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND password_hash = $4",
      params);
  if (!n.ok()) return n.status();
  return *n > 0;
}

Status UserStore::remove(store::Session& s, int64_t id) {
  auto n = s.exec("DELETE FROM users WHERE id = $1", {{id}});
  if (!n.ok()) return n.status();
  if (*n == 0) return not_found("no user " + std::to_string(id));
  return {};
}

Status UserStore::revoke_tokens(store::Session& s, int64_t id, const std::string& keep_hash) {
  std::vector<store::Value> params{now_rfc3339(), id, keep_hash};
  auto n = s.exec(
      "UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL "
      "AND token_hash <> $3",
      params);
  return n.ok() ? Status() : n.status();
}

Expected<std::vector<int64_t>> UserStore::lock_active_admins(store::Session& s,
                                                             store::Dialect dialect,
                                                             int64_t also_lock) {
  std::string sql =
      "SELECT id, role, disabled FROM users WHERE (role = 'admin' AND disabled = 0) OR id = $1 "
      "ORDER BY id";
  if (dialect == store::Dialect::kPostgres) sql += " FOR UPDATE";
  auto rows = s.query(sql, {{also_lock}});
  if (!rows.ok()) return rows.status();
  std::vector<int64_t> ids;
  for (size_t i = 0; i < rows->size(); ++i) {
    // Values after any wait: a row changed meanwhile shows its committed state.
    if (rows->get_text(i, 1) == kRoleAdmin && rows->get_int(i, 2) == 0) {
      ids.push_back(rows->get_int(i, 0));
    }
  }
  return ids;
}

}  // namespace vigil::auth
