#include "fleet/watchdogs.h"

#include <sodium.h>

#include "auth/user_store.h"
#include "core/ids.h"
#include "core/names.h"

namespace vigil::fleet {
namespace {

using store::Value;

// Crockford's base 32 without the look-alikes (no I, L, O, U, 0, 1): about 78 bits in 16.
constexpr std::string_view kAlphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789";

// Timestamps are fixed-width RFC 3339 UTC text, so they order as text in both dialects.
constexpr std::string_view kColumns =
    "w.id, w.name, d.name, w.device_id, w.user_id, w.agent, w.running_model, "
    "w.running_version, w.last_seen, w.created_at, w.online_until";

Watchdog watchdog_at(const store::Rows& rows, size_t r) {
  Watchdog w;
  w.id = rows.get_int(r, 0);
  w.name = rows.get_text(r, 1);
  w.device = rows.get_text(r, 2);
  w.device_id = rows.get_int(r, 3);
  w.user_id = rows.get_int(r, 4);
  w.agent = rows.get_text(r, 5);
  if (!rows.is_null(r, 6)) w.running = ModelRef{rows.get_text(r, 6), rows.get_int(r, 7)};
  w.last_seen = rows.get_text(r, 8);
  w.created_at = rows.get_text(r, 9);
  w.online_until = rows.get_text(r, 10);
  return w;
}

// The one watchdog `where` (a condition on w, with $1) finds, else kNotFound saying `what`.
Expected<Watchdog> get_where(store::Session& s, std::string_view where, Value key,
                             std::string_view what) {
  auto rows = s.query("SELECT " + std::string(kColumns) +
                          " FROM watchdogs w JOIN devices d ON d.id = w.device_id WHERE " +
                          std::string(where),
                      std::span(&key, 1));
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return not_found(std::string(what));
  return watchdog_at(*rows, 0);
}

Expected<Watchdog> get_in(store::Session& s, std::string_view name) {
  return get_where(s, "lower(w.name) = $1", name_key(name),
                   "no watchdog named " + std::string(name));
}

Status invalid_code() {
  return {ErrorCode::kUnauthenticated, "the enrollment code is unknown, used or expired"};
}

// The unused, unexpired enrollment of a code hash, locked on PostgreSQL; its id and device.
Expected<std::pair<int64_t, int64_t>> take_enrollment(store::Session& s, store::Dialect dialect,
                                                      const std::string& code_hash) {
  std::vector<Value> p{code_hash, now_rfc3339()};
  auto rows = s.query(
      std::string("SELECT id, device_id FROM enrollments WHERE code_hash = $1 AND used_at IS NULL "
                  "AND expires_at > $2") +
          (dialect == store::Dialect::kPostgres ? " FOR UPDATE" : ""),
      p);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return invalid_code();
  return std::make_pair(rows->get_int(0, 0), rows->get_int(0, 1));
}

}  // namespace

std::string WatchdogService::new_code() {
  std::string code(kEnrollmentCodeLength, ' ');
  for (char& c : code) {
    c = kAlphabet[randombytes_uniform(static_cast<uint32_t>(kAlphabet.size()))];
  }
  return code;
}

std::string WatchdogService::normalise_code(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == ' ' || c == '-') continue;
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out;
}

Expected<EnrollmentCode> WatchdogService::create_code(std::string_view device,
                                                      std::chrono::seconds ttl,
                                                      int64_t created_by) {
  if (ttl.count() < 1 || ttl > std::chrono::hours(24 * 30)) {
    return invalid_field("expires_in_s", "must be 1 s to 30 days");
  }
  EnrollmentCode out{new_code(), format_rfc3339(std::chrono::system_clock::now() + ttl)};
  VIGIL_RETURN_IF_ERROR(db_.write([&](store::Session& s) -> Status {
    auto dev = DeviceStore::get_for_update(s, db_.dialect(), device);
    if (!dev.ok()) return dev.status();
    std::vector<Value> p{sha256_hex(out.code), dev->id, out.expires_at, now_rfc3339(),
                         created_by > 0 ? Value(created_by) : Value(std::monostate{})};
    return s
        .exec(
            "INSERT INTO enrollments (code_hash, device_id, expires_at, created_at, "
            "created_by) VALUES ($1, $2, $3, $4, $5)",
            p)
        .status();
  }));
  return out;
}

Expected<Enrolled> WatchdogService::enroll(std::string_view code, std::string_view name) {
  VIGIL_RETURN_IF_ERROR(DeviceStore::validate_name(name, "watchdog"));
  const std::string hash = sha256_hex(normalise_code(code));
  auto enrolled =
      store::write_returning<Enrolled>(db_, [&](store::Session& s) -> Expected<Enrolled> {
        auto enrollment = take_enrollment(s, db_.dialect(), hash);
        if (!enrollment.ok()) return enrollment.status();
        // An account that can never sign in with a password ("!" is no Argon2 hash).
        auto user = auth::UserStore::insert(
            s, name_key(name) + "@" + std::string(auth::kWatchdogEmailDomain), "!",
            std::string(name), "watchdog");
        if (!user.ok()) return user.status();
        std::vector<Value> p{std::string(name), enrollment->second, user->id, now_rfc3339()};
        auto rows = s.query(
            "INSERT INTO watchdogs (name, device_id, user_id, created_at) VALUES ($1, $2, $3, $4) "
            "RETURNING id",
            p);
        if (!rows.ok()) return rows.status();
        std::vector<Value> used{now_rfc3339(), rows->get_int(0, 0), enrollment->first};
        // Guarded as well as locked: a code is used once, whatever the isolation.
        auto marked = s.exec(
            "UPDATE enrollments SET used_at = $1, watchdog_id = $2 WHERE id = $3 AND "
            "used_at IS NULL",
            used);
        if (!marked.ok()) return marked.status();
        if (*marked != 1) return invalid_code();
        auto token = auth::TokenService::insert(s, user->id, "watchdog", std::chrono::seconds(-1),
                                                tokens_.ttl());
        if (!token.ok()) return token.status();
        auto w = get_in(s, name);
        if (!w.ok()) return w.status();
        return Enrolled{std::move(*w), std::move(token->token)};
      });
  if (enrolled.status().code() == ErrorCode::kAlreadyExists) {
    return already_exists("a watchdog named " + std::string(name) + " exists");
  }
  return enrolled;
}

Expected<Watchdog> WatchdogService::get(std::string_view name) {
  return store::read_returning<Watchdog>(db_, [&](store::Session& s) { return get_in(s, name); });
}

Expected<Watchdog> WatchdogService::get_by_user(int64_t user_id) {
  return store::read_returning<Watchdog>(db_, [&](store::Session& s) {
    return get_where(s, "w.user_id = $1", user_id, "the account is no enrolled watchdog");
  });
}

Expected<Watchdog> WatchdogService::get_caller(int64_t user_id) {
  auto w = get_by_user(user_id);
  if (w.status().code() == ErrorCode::kNotFound) {
    return Status(ErrorCode::kPermissionDenied, "the caller is no enrolled watchdog");
  }
  return w;
}

Expected<std::vector<Watchdog>> WatchdogService::list(int limit, int64_t after_id,
                                                      std::optional<std::string> device) {
  if (limit < 1 || limit > 1000) return invalid_field("limit", "must be 1-1000");
  std::string sql = "SELECT " + std::string(kColumns) +
                    " FROM watchdogs w JOIN devices d ON d.id = w.device_id WHERE w.id > $1";
  std::vector<Value> p{after_id, int64_t{limit}};
  if (device) {
    sql += " AND lower(d.name) = $3";
    p.emplace_back(name_key(*device));
  }
  sql += " ORDER BY w.id LIMIT $2";
  auto rows = db_.query(sql, p);
  if (!rows.ok()) return rows.status();
  std::vector<Watchdog> out;
  for (size_t r = 0; r < rows->size(); ++r) out.push_back(watchdog_at(*rows, r));
  return out;
}

Status WatchdogService::remove(std::string_view name) {
  int64_t user_id = 0;
  VIGIL_RETURN_IF_ERROR(db_.write([&](store::Session& s) -> Status {
    auto w = get_in(s, name);
    if (!w.ok()) return w.status();
    user_id = w->user_id;
    return auth::UserStore::remove(s, user_id);  // the watchdog row and tokens cascade
  }));
  tokens_.forget_user(user_id);
  return {};
}

}  // namespace vigil::fleet
