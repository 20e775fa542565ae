#include "app/app.h"
#include "auth/password.h"
#include "core/ids.h"

namespace vigil::app {

Expected<FirstAdmin> ensure_first_admin(store::Database& db, const Config& config) {
  FirstAdmin result;
  auto admins = db.query("SELECT COUNT(*) FROM users WHERE role = $1", {std::string("admin")});
  if (!admins.ok()) return admins.status();
  if (admins->get_int(0, 0) > 0) return result;

  result.email = config.get_string("admin_email");
  std::string password = config.get_string("admin_password");
  if (password.empty()) {
    password = random_token(12);  // 16 characters, 96 bits
    result.generated_password = password;
  }
  auto hash = auth::hash_password(password);
  if (!hash.ok()) return hash.status();
  std::string now = now_rfc3339();
  auto inserted = db.exec(
      "INSERT INTO users (email, name, password_hash, role, created_at, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {result.email, std::string("Administrator"), *hash, std::string("admin"), now, now});
  if (!inserted.ok()) {
    // Another process created it first: fine.
    if (inserted.status().code() == ErrorCode::kAlreadyExists) return FirstAdmin{};
    return inserted.status();
  }
  result.created = true;
  return result;
}

}  // namespace vigil::app
