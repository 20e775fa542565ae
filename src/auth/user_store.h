// User accounts in the store. Emails are unique case-insensitively and kept as given.
// Thread-safe (the Database is).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/password.h"
#include "core/status.h"
#include "store/database.h"

namespace vigil::auth {

struct User {
  int64_t id = 0;
  std::string email;
  std::string name;
  std::string role;
  std::string created_at;
  std::string updated_at;
  bool disabled = false;
};

struct UserPage {
  std::vector<User> items;
  std::optional<int64_t> next_after;  // id to continue after; nullopt on the last page
};

class UserStore {
 public:
  UserStore(store::Database& db, PasswordParams params = {});

  // kInvalidArgument with a message naming the field (email, password, role);
  // kAlreadyExists for a taken email.
  Expected<User> create(const std::string& email, const std::string& password,
                        const std::string& name, const std::string& role);
  Expected<User> get(int64_t id);
  // The user and their password hash, for sign-in. kNotFound when unknown.
  Expected<std::pair<User, std::string>> get_with_hash(const std::string& email);
  Expected<UserPage> list(int64_t after_id, int limit);
  Status set_password(int64_t id, const std::string& password);
  // Stores an already-computed hash (rehash on login).
  Status set_password_hash(int64_t id, const std::string& hash);
  Status set_role(int64_t id, const std::string& role);
  Status set_name(int64_t id, const std::string& name);
  Status set_disabled(int64_t id, bool disabled);
  Status remove(int64_t id);
  Expected<int64_t> count_admins();

  const PasswordParams& password_params() const { return params_; }

  static Status validate_email(const std::string& email);
  static Status validate_password(const std::string& password);

 private:
  Status update_one(const std::string& sql, std::vector<store::Value> params);
  store::Database& db_;
  PasswordParams params_;
};

}  // namespace vigil::auth
