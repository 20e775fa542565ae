#include "app/app.h"
#include "auth/account_service.h"
#include "core/ids.h"

namespace vigil::app {

auth::PasswordParams password_params(const Config& config) {
  auth::PasswordParams p;
  p.ops_limit = static_cast<unsigned long long>(config.get_int("auth.password_ops_limit"));
  p.mem_limit = static_cast<size_t>(config.get_int("auth.password_mem_kib")) * 1024;
  return p;
}

Expected<FirstAdmin> ensure_first_admin(auth::AccountService& accounts, const Config& config) {
  FirstAdmin result;
  result.email = config.get_string("admin_email");
  std::string password = config.get_string("admin_password");
  if (password.empty()) {
    password = random_token(12);  // 16 characters, 96 bits
    result.generated_password = password;
  }
  auto created = accounts.ensure_admin(result.email, password);
  if (!created.ok()) return created.status();
  if (!created->has_value()) return FirstAdmin{};
  result.created = true;
  return result;
}

}  // namespace vigil::app
