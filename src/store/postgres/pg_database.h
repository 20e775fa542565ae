// PostgreSQL implementation of Database (the cluster mode), over libpq.
//
// A pool of up to `pool_size` connections, opened on demand (the first at open, so a server
// that cannot be reached fails open). Each connection caches its prepared statements by SQL
// text. write() runs BEGIN … COMMIT at READ COMMITTED; read() runs a REPEATABLE READ, READ
// ONLY transaction. A connection found broken is reset when it is next checked out.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "store/database.h"

namespace vigil::store {

struct PostgresConfig {
  std::string conninfo;        // a postgresql:// URL or a libpq key=value string
  int pool_size = 4;           // at least 1
  int connect_timeout_s = 10;  // unless the conninfo sets connect_timeout itself
};

// kInvalidArgument for a malformed conninfo; kUnavailable when the first connection fails.
// Error messages and describe() never contain the password.
Expected<std::unique_ptr<Database>> open_postgres_database(const PostgresConfig& config);

}  // namespace vigil::store
