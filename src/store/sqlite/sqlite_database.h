// SQLite implementation of Database (the embedded mode).
//
// One writer connection, guarded by a mutex, runs every write() as BEGIN IMMEDIATE … COMMIT;
// `pool_size` reader connections (query_only) run read()s concurrently, each inside one
// transaction so it sees a single snapshot. Files use WAL, so readers never block the writer
// and the writer never blocks readers. Each connection caches its prepared statements by SQL
// text, with `$N` placeholders rewritten to `?N` once, at prepare time.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "store/database.h"

namespace vigil::store {

struct SqliteConfig {
  // A file path (its parent directory must exist), or empty for a private in-memory database
  // shared by this object's connections and nothing else. Freed when the Database is.
  std::string path;
  int pool_size = 4;  // reader connections, at least 1
  int busy_timeout_ms = 5000;
};

// Opens (creating when missing) the database. kUnavailable when the file cannot be opened
// or configured (permissions, not a database, locked beyond the busy timeout).
Expected<std::unique_ptr<Database>> open_sqlite_database(const SqliteConfig& config);

}  // namespace vigil::store
