#include "app/app.h"
#include "auth/user_store.h"
#include "core/ids.h"

namespace vigil::app {

auth::PasswordParams password_params(const Config& config) {
  auth::PasswordParams p;
  p.ops_limit = static_cast<unsigned long long>(config.get_int("auth.password_ops_limit"));
  p.mem_limit = static_cast<size_t>(config.get_int("auth.password_mem_kib")) * 1024;
  return p;
}

Expected<FirstAdmin> ensure_first_admin(auth::UserStore& users, const Config& config) {
  FirstAdmin result;
  auto admins = users.count_admins();
  if (!admins.ok()) return admins.status();
  if (*admins > 0) return result;

  result.email = config.get_string("admin_email");
  std::string password = config.get_string("admin_password");
  if (password.empty()) {
    password = random_token(12);  // 16 characters, 96 bits
    result.generated_password = password;
  }
  auto created = users.create(result.email, password, "Administrator", "admin");
  if (!created.ok()) {
    // Another process created it first: fine.
    if (created.status().code() == ErrorCode::kAlreadyExists) return FirstAdmin{};
    return created.status();
  }
  result.created = true;
  return result;
}

}  // namespace vigil::app
