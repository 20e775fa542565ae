#include "core/config.h"

namespace vigil {

const std::vector<ConfigKeySpec>& config_keys() {
  using T = ConfigType;
  static const std::vector<ConfigKeySpec> kKeys = {
      {"data_dir", T::kString, "var", "Where the embedded database, logs and caches live"},
      {"admin_email", T::kString, "admin@localhost", "Email of the first admin, created once"},
      {"admin_password", T::kString, "",
       "Password of the first admin; generated and printed once when empty", true},

      {"server.host", T::kString, "127.0.0.1", "Address to listen on"},
      {"server.port", T::kInt, "8080", "TCP port (0 picks a free one)", false, 0, 65535},
      {"server.io_threads", T::kInt, "0", "I/O threads (0 = number of cores)", false, 0, 256},
      {"server.max_header_bytes", T::kInt, "16384", "Largest request head accepted (431 above)",
       false, 1024, 1 << 20},
      {"server.max_body_bytes", T::kInt, "1048576",
       "Largest request body for routes without their own limit (413 above)", false, 0,
       int64_t{4} << 30},
      {"server.header_timeout_ms", T::kInt, "10000",
       "Time a client has to send a complete request head", false, 100, 3600000},
      {"server.body_timeout_ms", T::kInt, "60000", "Time a client has to send a request body",
       false, 100, 3600000},
      {"server.idle_timeout_ms", T::kInt, "60000", "Keep-alive connection idle limit", false, 100,
       3600000},
      {"server.ws_idle_timeout_ms", T::kInt, "60000",
       "WebSocket sessions silent this long are closed", false, 100, 3600000},
      {"server.shutdown_grace_ms", T::kInt, "10000",
       "On SIGTERM: how long in-flight requests may take before connections are cut", false, 0,
       600000},
      {"server.max_connections", T::kInt, "100000", "Open connections beyond this are refused",
       false, 1, 10000000},
      {"server.tls_cert", T::kString, "", "PEM certificate chain; enables TLS with tls_key"},
      {"server.tls_key", T::kString, "", "PEM private key", true},

      {"database.url", T::kString, "sqlite://{data_dir}/vigil.db",
       "sqlite://PATH or postgresql://user:pass@host:port/db", true},
      {"database.pool_size", T::kInt, "4", "Reader (SQLite) or total (PostgreSQL) connections",
       false, 1, 256},
      {"database.migrate_on_start", T::kBool, "true", "serve applies pending migrations"},

      {"log.level",
       T::kString,
       "info",
       "Least severe level written",
       false,
       INT64_MIN,
       INT64_MAX,
       {"trace", "debug", "info", "warn", "error", "critical", "off"}},
      {"log.format",
       T::kString,
       "auto",
       "text, json, or auto (text on a terminal)",
       false,
       INT64_MIN,
       INT64_MAX,
       {"auto", "text", "json"}},
      {"log.file", T::kString, "{data_dir}/logs/vigil.log",
       "Rotating JSON-lines log file; empty disables"},
      {"log.max_file_mb", T::kInt, "16", "Size at which the log file rotates", false, 1, 4096},
      {"log.max_files", T::kInt, "5", "Rotated log files kept", false, 1, 1000},
  };
  return kKeys;
}

}  // namespace vigil
