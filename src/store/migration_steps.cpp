#include "store/migration_steps.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/unicode.h"

namespace vigil::store::detail {
namespace {

using IdAndKey = std::pair<int64_t, std::string>;

// The key of every account's email, in id order; kFailedPrecondition naming the accounts when
// an email has none or two share one.
Expected<std::vector<IdAndKey>> email_keys(Session& session) {
  auto rows = session.query("SELECT id, email FROM users ORDER BY id");
  if (!rows.ok()) return rows.status();
  std::vector<IdAndKey> keys;
  std::map<std::string, int64_t> owners;
  for (size_t i = 0; i < rows->size(); ++i) {
    const int64_t id = rows->get_int(i, 0);
    auto key = caseless_key(rows->get_text(i, 1));
    if (key.status().code() == ErrorCode::kInvalidArgument) {
      return failed_precondition("the email of account " + std::to_string(id) +
                                 " is not well-formed UTF-8; delete that account, then migrate");
    }
    if (!key.ok()) return key.status();
    if (auto [owner, fresh] = owners.emplace(*key, id); !fresh) {
      return failed_precondition("accounts " + std::to_string(owner->second) + " and " +
                                 std::to_string(id) +
                                 " have one email ignoring case and Unicode normalisation; "
                                 "delete one of them, then migrate");
    }
    keys.emplace_back(id, std::move(*key));
  }
  return keys;
}

}  // namespace

std::function<Status(Session&)> embedded_up_step(std::string_view migration_name) {
  if (migration_name == "email_key") return fill_email_keys;
  return {};
}

Status fill_email_keys(Session& session) {
  auto keys = email_keys(session);
  if (!keys.ok()) return keys.status();
  for (auto& [id, key] : *keys) {
    auto updated = session.exec("UPDATE users SET email_key = $1 WHERE id = $2",
                                std::vector<Value>{std::move(key), id});
    if (!updated.ok()) return updated.status();
  }
  return {};
}

}  // namespace vigil::store::detail
