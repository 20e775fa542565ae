// The storage boundary. Every module talks to state through Database; nothing else knows
// whether it runs on SQLite (embedded) or PostgreSQL (cluster).
//
// SQL is written once in PostgreSQL's placeholder style ($1, $2, ...) and only ever with bound
// parameters; the SQLite implementation rewrites placeholders when it prepares a statement.
// Both dialects accept `INSERT ... RETURNING`. Where the dialects differ (DDL, upserts), ask
// dialect().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace vigil::store {

enum class Dialect { kSqlite, kPostgres };

struct Blob {
  std::string bytes;
  bool operator==(const Blob&) const = default;
};

// One bound parameter or one result cell. NULL is std::monostate.
using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;

// Rows of a query result, values converted to the closest Value type (integers and booleans
// → int64_t, floating point → double, bytea/BLOB → Blob, everything else → std::string).
class Rows {
 public:
  Rows() = default;
  Rows(std::vector<std::string> columns, std::vector<std::vector<Value>> rows)
      : columns_(std::move(columns)), rows_(std::move(rows)) {}

  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<Value>& row(size_t i) const { return rows_[i]; }
  const Value& at(size_t row, size_t col) const { return rows_[row][col]; }

  bool is_null(size_t row, size_t col) const { return at(row, col).index() == 0; }
  // Typed access; a NULL or a value of another type gives the fallback, except that integers
  // and whole-number doubles convert to each other (SUM() is an integer on SQLite, a numeric
  // on PostgreSQL).
  int64_t get_int(size_t row, size_t col, int64_t fallback = 0) const;
  double get_double(size_t row, size_t col, double fallback = 0) const;
  std::string get_text(size_t row, size_t col, std::string fallback = {}) const;
  std::string get_blob(size_t row, size_t col) const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<Value>> rows_;
};

// A connection lent to one caller for the duration of a read() or write() callback. Not
// thread-safe; do not keep it past the callback.
class Session {
 public:
  virtual ~Session() = default;
  // Runs one statement and returns its rows (empty for statements without results).
  virtual Expected<Rows> query(std::string_view sql, std::span<const Value> params = {}) = 0;
  // Runs one statement and returns the number of rows it changed.
  virtual Expected<int64_t> exec(std::string_view sql, std::span<const Value> params = {}) = 0;
  // Runs a script of several statements without parameters (migrations only).
  virtual Status exec_script(std::string_view sql) = 0;
};

// Error mapping of every implementation: a unique-constraint violation → kAlreadyExists; a
// foreign-key violation → kConflict; a lost connection, busy/locked timeout or a server that
// cannot be reached (and, on PostgreSQL, a serialization failure or deadlock: retry) →
// kUnavailable; a wrong number of parameters → kInvalidArgument; anything else (bad SQL, other
// constraints) → kInternal. Messages never carry parameter values.
//
// Thread-safety: all methods may be called from any thread at once.
class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;

  // Every call below blocks: never make one on an I/O thread (core/io_thread.h). Debug and
  // sanitizer builds check it and abort, so a test that does it fails.

  // Runs fn on a connection that sees a consistent snapshot. Writes inside fn are a bug.
  Status read(const std::function<Status(Session&)>& fn);
  // Runs fn in one transaction: committed when fn returns ok, rolled back otherwise (fn's
  // status is returned). Writers are serialised on SQLite; on PostgreSQL they run concurrently
  // (READ COMMITTED: lock rows with SELECT ... FOR UPDATE to check a rule across rows).
  // A statement that fails dooms the transaction (PostgreSQL aborts it): write() then rolls
  // back and returns that statement's error even when fn returns ok.
  Status write(const std::function<Status(Session&)>& fn);

  // Cheap round trip to the database; kUnavailable when it cannot be reached.
  Status ping();
  virtual std::string describe() const = 0;  // "sqlite:var/vigil.db" — no credentials

  // Conveniences for one statement. query() runs in read() when the statement starts with
  // SELECT, VALUES, WITH, EXPLAIN, SHOW or TABLE, otherwise (INSERT ... RETURNING) in write().
  Expected<Rows> query(std::string_view sql, std::vector<Value> params = {});
  Expected<int64_t> exec(std::string_view sql, std::vector<Value> params = {});

 protected:
  // The implementations of read(), write() and ping().
  virtual Status run_read(const std::function<Status(Session&)>& fn) = 0;
  virtual Status run_write(const std::function<Status(Session&)>& fn) = 0;
  virtual Status run_ping() = 0;
};

// Runs fn(session) in db.write() and hands back the value it produced (fn returns Expected<T>;
// an error rolls the transaction back and is returned).
template <typename T, typename Fn>
Expected<T> write_returning(Database& db, Fn&& fn) {
  std::optional<T> out;
  VIGIL_RETURN_IF_ERROR(db.write([&](Session& s) -> Status {
    auto value = fn(s);
    if (!value.ok()) return value.status();
    out = std::move(*value);
    return {};
  }));
  return std::move(*out);
}

// The same in db.read(): fn(session) returns Expected<T>.
template <typename T, typename Fn>
Expected<T> read_returning(Database& db, Fn&& fn) {
  std::optional<T> out;
  VIGIL_RETURN_IF_ERROR(db.read([&](Session& s) -> Status {
    auto value = fn(s);
    if (!value.ok()) return value.status();
    out = std::move(*value);
    return {};
  }));
  return std::move(*out);
}

struct DatabaseOptions {
  // sqlite://relative/path | sqlite:///absolute/path | sqlite:PATH | sqlite::memory: |
  // postgresql://... | postgres://... (a libpq URL). A SQLite file's parent directory is
  // created when missing; sqlite::memory: is private to the returned Database.
  std::string url;
  int pool_size = 4;           // reader connections (SQLite) or connections (PostgreSQL)
  int busy_timeout_ms = 5000;  // SQLite: how long to wait for another process's lock
};

// Whether this build stops store calls made on an I/O thread (debug and sanitizer builds).
bool thread_checks_enabled();

// Opens the database the URL names. kInvalidArgument for an unknown scheme; kUnavailable when
// the server cannot be reached.
Expected<std::unique_ptr<Database>> open_database(const DatabaseOptions& options);

}  // namespace vigil::store
