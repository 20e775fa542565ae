#include "store/database.h"

#include "core/io_thread.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <system_error>

#include "store/postgres/pg_database.h"
#include "store/sql_util.h"
#include "store/sqlite/sqlite_database.h"

namespace vigil::store {
namespace {

constexpr std::string_view kSqliteMemory = "sqlite::memory:";
constexpr std::string_view kSqlitePrefix = "sqlite:";

Status ensure_parent_directory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return {};
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return unavailable("cannot create directory " + parent.string() + ": " + ec.message());
  return {};
}

Expected<std::unique_ptr<Database>> open_sqlite_url(std::string_view url,
                                                    const DatabaseOptions& options) {
  SqliteConfig config;
  config.pool_size = options.pool_size;
  config.busy_timeout_ms = options.busy_timeout_ms;
  if (url != kSqliteMemory) {
    // sqlite://rel/path, sqlite:///abs/path, or sqlite:PATH (the form describe() prints).
    std::string_view path = url.substr(kSqlitePrefix.size());
    if (path.starts_with("//")) path.remove_prefix(2);
    if (path.empty()) return invalid_argument("sqlite URL has no path");
    config.path = std::string(path);
    VIGIL_RETURN_IF_ERROR(ensure_parent_directory(config.path));
  }
  return open_sqlite_database(config);
}

}  // namespace

int64_t Rows::get_int(size_t row, size_t col, int64_t fallback) const {
  const Value& v = at(row, col);
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) {
    // A whole number that arrived as a double (numeric sums on PostgreSQL).
    constexpr double kLimit = 9223372036854775808.0;  // 2^63
    if (std::trunc(*d) == *d && *d >= -kLimit && *d < kLimit) return static_cast<int64_t>(*d);
  }
  return fallback;
}

double Rows::get_double(size_t row, size_t col, double fallback) const {
  const Value& v = at(row, col);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return fallback;
}

std::string Rows::get_text(size_t row, size_t col, std::string fallback) const {
  if (const auto* s = std::get_if<std::string>(&at(row, col))) return *s;
  return fallback;
}

std::string Rows::get_blob(size_t row, size_t col) const {
  if (const auto* b = std::get_if<Blob>(&at(row, col))) return b->bytes;
  return {};
}

namespace {
// Debug and sanitizer builds (VIGIL_THREAD_CHECKS, set in CMakeLists.txt) stop a store call
// made on an I/O thread; release builds pay nothing.
inline void check_not_io_thread(const char* what) {
#ifdef VIGIL_THREAD_CHECKS
  if (on_io_thread()) blocking_call_on_io_thread(what);
#else
  (void)what;
#endif
}
}  // namespace

bool thread_checks_enabled() {
#ifdef VIGIL_THREAD_CHECKS
  return true;
#else
  return false;
#endif
}

Status Database::read(const std::function<Status(Session&)>& fn) {
  check_not_io_thread("store::Database::read");
  return run_read(fn);
}

Status Database::write(const std::function<Status(Session&)>& fn) {
  check_not_io_thread("store::Database::write");
  return run_write(fn);
}

Status Database::ping() {
  check_not_io_thread("store::Database::ping");
  return run_ping();
}

Expected<Rows> Database::query(std::string_view sql, std::vector<Value> params) {
  Rows result;
  auto run = [&](Session& session) -> Status {
    Expected<Rows> rows = session.query(sql, params);
    if (!rows.ok()) return rows.status();
    result = std::move(rows).value();
    return {};
  };
  Status status = detail::is_read_only_statement(sql) ? read(run) : write(run);
  if (!status.ok()) return status;
  return result;
}

Expected<int64_t> Database::exec(std::string_view sql, std::vector<Value> params) {
  int64_t changed = 0;
  Status status = write([&](Session& session) -> Status {
    Expected<int64_t> n = session.exec(sql, params);
    if (!n.ok()) return n.status();
    changed = *n;
    return {};
  });
  if (!status.ok()) return status;
  return changed;
}

Expected<std::unique_ptr<Database>> open_database(const DatabaseOptions& options) {
  if (options.pool_size < 1) return invalid_argument("database pool_size must be at least 1");
  const std::string_view url = options.url;
  if (url == kSqliteMemory || url.starts_with(kSqlitePrefix)) {
    return open_sqlite_url(url, options);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    PostgresConfig config;
    config.conninfo = options.url;
    config.pool_size = options.pool_size;
    return open_postgres_database(config);
  }
  // Name only the scheme: the rest of a URL may hold credentials.
  const size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return invalid_argument("database URL has no scheme (expected sqlite:// or postgresql://)");
  }
  return invalid_argument("unknown database URL scheme '" + std::string(url.substr(0, colon)) +
                          "' (expected sqlite:// or postgresql://)");
}

}  // namespace vigil::store
