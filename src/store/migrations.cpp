#include "store/migrations.h"

#include <algorithm>
#include <cassert>
#include <map>

#include "core/ids.h"
#include "store/embedded_sql.h"
#include "store/migration_steps.h"

namespace vigil::store {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

// Parses "0001_users.up.sql" into version 1, name "users", direction "up".
bool parse_file_name(std::string_view file, int* version, std::string* name, bool* up) {
  const size_t underscore = file.find('_');
  if (underscore == 0 || underscore == std::string_view::npos) return false;
  int v = 0;
  for (char c : file.substr(0, underscore)) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  std::string_view rest = file.substr(underscore + 1);
  if (rest.ends_with(".up.sql")) {
    *up = true;
    rest.remove_suffix(7);
  } else if (rest.ends_with(".down.sql")) {
    *up = false;
    rest.remove_suffix(9);
  } else {
    return false;
  }
  *version = v;
  *name = std::string(rest);
  return v > 0 && !rest.empty();
}

std::vector<Migration> load_embedded(std::string_view dialect) {
  std::map<int, Migration> by_version;
  for (const detail::EmbeddedSqlFile& file : detail::embedded_sql_files()) {
    if (file.dialect != dialect) continue;
    int version = 0;
    std::string name;
    bool up = false;
    const bool parsed = parse_file_name(file.file, &version, &name, &up);
    assert(parsed && "migration files are named NNNN_name.up.sql / NNNN_name.down.sql");
    if (!parsed) continue;
    Migration& m = by_version[version];
    assert((m.name.empty() || m.name == name) && "one name per migration version");
    m.version = version;
    m.name = name;
    (up ? m.up_sql : m.down_sql) = std::string(file.text);
  }
  std::vector<Migration> out;
  out.reserve(by_version.size());
  for (auto& [version, m] : by_version) {
    m.up_step = detail::embedded_up_step(m.name);
    out.push_back(std::move(m));
  }
  return out;
}

// The applied versions and their records, read inside a session.
Expected<std::map<int, MigrationState>> applied_in(Session& session) {
  Expected<Rows> rows =
      session.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
  if (!rows.ok()) return rows.status();
  std::map<int, MigrationState> applied;
  for (size_t r = 0; r < rows->size(); ++r) {
    MigrationState state;
    state.version = static_cast<int>(rows->get_int(r, 0));
    state.name = rows->get_text(r, 1);
    state.applied = true;
    state.applied_at = rows->get_text(r, 2);
    applied[state.version] = std::move(state);
  }
  return applied;
}

// Serialises migrators across processes on PostgreSQL for the rest of the transaction (SQLite
// write transactions are serialised already).
Status lock_migrations(Database& db, Session& session) {
  if (db.dialect() != Dialect::kPostgres) return {};
  constexpr int64_t kLockKey = 0x76696769'6c6d6967;  // "vigilmig"
  return session.query("SELECT pg_advisory_xact_lock($1)", std::vector<Value>{kLockKey}).status();
}

Expected<bool> is_applied(Session& session, int version) {
  Expected<Rows> rows = session.query("SELECT 1 FROM schema_migrations WHERE version = $1",
                                      std::vector<Value>{int64_t{version}});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

}  // namespace

const std::vector<Migration>& embedded_migrations(Dialect dialect) {
  static const std::vector<Migration> sqlite = load_embedded("sqlite");
  static const std::vector<Migration> postgres = load_embedded("postgres");
  return dialect == Dialect::kSqlite ? sqlite : postgres;
}

Migrator::Migrator(Database& db) : Migrator(db, embedded_migrations(db.dialect())) {}

Migrator::Migrator(Database& db, std::vector<Migration> migrations)
    : db_(db), migrations_(std::move(migrations)) {
  std::sort(migrations_.begin(), migrations_.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
}

int Migrator::latest_known_version() const {
  return migrations_.empty() ? 0 : migrations_.back().version;
}

Expected<int> Migrator::up(int target) {
  VIGIL_RETURN_IF_ERROR(check_not_newer());
  int ran = 0;
  for (const Migration& m : migrations_) {
    if (target > 0 && m.version > target) break;
    bool applied_now = false;
    Status status = db_.write([&](Session& session) -> Status {
      VIGIL_RETURN_IF_ERROR(lock_migrations(db_, session));
      Expected<bool> applied = is_applied(session, m.version);
      if (!applied.ok()) return applied.status();
      if (*applied) return {};  // applied earlier, or by another migrator meanwhile
      Status s = session.exec_script(m.up_sql);
      if (s.ok() && m.up_step) s = m.up_step(session);
      if (!s.ok()) {
        return Status(s.code(), "migration " + std::to_string(m.version) + "_" + m.name +
                                    " failed: " + s.message());
      }
      applied_now = true;
      return session
          .exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                std::vector<Value>{int64_t{m.version}, m.name, now_rfc3339()})
          .status();
    });
    VIGIL_RETURN_IF_ERROR(status);
    if (applied_now) ++ran;
  }
  return ran;
}

Expected<int> Migrator::down(int steps) {
  VIGIL_RETURN_IF_ERROR(db_.exec(kCreateTable).status());
  int ran = 0;
  for (; ran < steps; ++ran) {
    bool reverted = false;
    Status status = db_.write([&](Session& session) -> Status {
      VIGIL_RETURN_IF_ERROR(lock_migrations(db_, session));
      Expected<Rows> newest = session.query(
          "SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1");
      if (!newest.ok()) return newest.status();
      if (newest->empty()) return {};  // nothing left to revert
      const int version = static_cast<int>(newest->get_int(0, 0));
      auto known = std::find_if(migrations_.begin(), migrations_.end(),
                                [&](const Migration& m) { return m.version == version; });
      if (known == migrations_.end()) {
        return failed_precondition("cannot revert migration " + std::to_string(version) + "_" +
                                   newest->get_text(0, 1) + ": this binary does not know it");
      }
      if (known->down_sql.empty()) {
        return failed_precondition("migration " + std::to_string(version) + "_" + known->name +
                                   " has no down script");
      }
      if (Status s = session.exec_script(known->down_sql); !s.ok()) {
        return Status(s.code(), "reverting migration " + std::to_string(version) + "_" +
                                    known->name + " failed: " + s.message());
      }
      reverted = true;
      return session
          .exec("DELETE FROM schema_migrations WHERE version = $1",
                std::vector<Value>{int64_t{version}})
          .status();
    });
    VIGIL_RETURN_IF_ERROR(status);
    if (!reverted) break;
  }
  return ran;
}

Expected<std::vector<MigrationState>> Migrator::status() {
  VIGIL_RETURN_IF_ERROR(db_.exec(kCreateTable).status());
  std::map<int, MigrationState> applied;
  VIGIL_RETURN_IF_ERROR(db_.read([&](Session& session) -> Status {
    Expected<std::map<int, MigrationState>> rows = applied_in(session);
    if (!rows.ok()) return rows.status();
    applied = std::move(rows).value();
    return {};
  }));
  std::vector<MigrationState> out;
  for (const Migration& m : migrations_) {
    auto it = applied.find(m.version);
    if (it != applied.end()) {
      out.push_back(it->second);
      applied.erase(it);
    } else {
      out.push_back(MigrationState{m.version, m.name, false, ""});
    }
  }
  // Versions applied by a newer binary come last, as the database recorded them.
  for (auto& [version, state] : applied) out.push_back(std::move(state));
  std::sort(out.begin(), out.end(),
            [](const MigrationState& a, const MigrationState& b) { return a.version < b.version; });
  return out;
}

Expected<int> Migrator::current_version() {
  VIGIL_RETURN_IF_ERROR(db_.exec(kCreateTable).status());
  Expected<Rows> rows = db_.query("SELECT MAX(version) FROM schema_migrations");
  if (!rows.ok()) return rows.status();
  return static_cast<int>(rows->get_int(0, 0, 0));
}

Status Migrator::check_not_newer() {
  Expected<int> current = current_version();
  if (!current.ok()) return current.status();
  if (*current > latest_known_version()) {
    return failed_precondition("database schema version " + std::to_string(*current) +
                               " is newer than this binary knows (" +
                               std::to_string(latest_known_version()) + ")");
  }
  return {};
}

Status Migrator::check_current() {
  Expected<std::vector<MigrationState>> states = status();
  if (!states.ok()) return states.status();
  for (const MigrationState& state : *states) {
    if (!state.applied) {
      return failed_precondition("database schema lacks migration " +
                                 std::to_string(state.version) + "_" + state.name +
                                 "; run `vigil migrate up`");
    }
  }
  return {};
}

}  // namespace vigil::store
