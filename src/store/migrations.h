// Schema migrations: numbered up/down SQL per dialect, embedded in the binary from
// src/store/migrations/<dialect>/NNNN_name.{up,down}.sql, and for the few that need what SQL
// cannot compute, a C++ step after the up SQL (migration_steps.h). Each migration runs in its
// own transaction and is recorded in schema_migrations(version, name, applied_at).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "store/database.h"

namespace vigil::store {

struct Migration {
  int version = 0;
  std::string name;
  std::string up_sql;
  std::string down_sql;
  // Runs after up_sql in the same transaction (empty: none); an error undoes the migration.
  std::function<Status(Session&)> up_step;
};

struct MigrationState {
  int version = 0;
  std::string name;
  bool applied = false;
  std::string applied_at;  // RFC 3339, empty when not applied
};

class Migrator {
 public:
  explicit Migrator(Database& db);  // uses the embedded migrations of db.dialect()
  Migrator(Database& db, std::vector<Migration> migrations);  // for tests

  // Applies every pending migration (or up to `target` when > 0). Returns how many ran.
  Expected<int> up(int target = 0);
  // Reverts the last `steps` applied migrations. Returns how many ran.
  Expected<int> down(int steps = 1);
  Expected<std::vector<MigrationState>> status();
  Expected<int> current_version();
  int latest_known_version() const;
  // kFailedPrecondition when the database holds a schema newer than this binary knows.
  Status check_not_newer();
  // ok when every known migration is applied.
  Status check_current();

 private:
  Database& db_;
  std::vector<Migration> migrations_;
};

// The migrations compiled into this binary for a dialect, in version order.
const std::vector<Migration>& embedded_migrations(Dialect dialect);

}  // namespace vigil::store
