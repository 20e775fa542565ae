#include "store/sqlite/sqlite_database.h"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/sql_util.h"
#include "store/sqlite/placeholders.h"

namespace vigil::store {
namespace {

// Statements cached per connection before the cache is flushed (guards against callers
// that build SQL text dynamically).
constexpr size_t kMaxCachedStatements = 512;

// Maps an (extended) SQLite result code to the store's error contract (database.h).
Status sqlite_status(int code, sqlite3* db, std::string_view sql) {
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  if (!sql.empty()) message += " [" + detail::sql_excerpt(sql) + "]";
  switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: return already_exists(std::move(message));
    case SQLITE_CONSTRAINT_FOREIGNKEY: return conflict(std::move(message));
    default: break;
  }
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return unavailable(std::move(message));
    default: return internal_error(std::move(message));
  }
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// One sqlite3 handle and its statement cache. Used by one thread at a time.
class Connection {
 public:
  explicit Connection(sqlite3* db) : db_(db) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    clear_cache();
    sqlite3_close_v2(db_);
  }

  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }
  sqlite3* handle() const { return db_; }

  // Runs a statement without parameters or results (BEGIN, COMMIT, PRAGMA ...).
  Status exec_simple(const char* sql) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? Status{} : sqlite_status(rc, db_, sql);
  }

  void rollback_quietly() {
    if (in_transaction()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

  // Runs one statement; `changes` (optional) receives the rows it changed.
  Expected<Rows> run(std::string_view sql, std::span<const Value> params, int64_t* changes) {
    Expected<sqlite3_stmt*> prepared = prepare(sql);
    if (!prepared.ok()) return prepared.status();
    sqlite3_stmt* stmt = *prepared;
    // Leave the cached statement reusable whatever happens below.
    struct ResetOnExit {
      sqlite3_stmt* stmt;
      ~ResetOnExit() {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
      }
    } reset_on_exit{stmt};

    const int wanted = sqlite3_bind_parameter_count(stmt);
    if (wanted != static_cast<int>(params.size())) {
      return invalid_argument("statement takes " + std::to_string(wanted) + " parameters, " +
                              std::to_string(params.size()) + " given [" +
                              detail::sql_excerpt(sql) + "]");
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int rc = bind(stmt, static_cast<int>(i) + 1, params[i]);
      if (rc != SQLITE_OK) return sqlite_status(rc, db_, sql);
    }

    const int column_count = sqlite3_column_count(stmt);
    std::vector<std::string> columns;
    columns.reserve(column_count);
    for (int c = 0; c < column_count; ++c) {
      const char* name = sqlite3_column_name(stmt, c);
      columns.emplace_back(name != nullptr ? name : "");
    }
    std::vector<std::vector<Value>> rows;
    int rc = SQLITE_OK;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<Value>& row = rows.emplace_back();
      row.reserve(column_count);
      for (int c = 0; c < column_count; ++c) row.push_back(column_value(stmt, c));
    }
    if (rc != SQLITE_DONE) return sqlite_status(rc, db_, sql);
    if (changes != nullptr) *changes = sqlite3_stmt_readonly(stmt) ? 0 : sqlite3_changes64(db_);
    return Rows(std::move(columns), std::move(rows));
  }

  // Runs every statement of a script in order; stops at the first error.
  Status exec_script(std::string_view sql) {
    const char* next = sql.data();
    const char* const end = sql.data() + sql.size();
    while (next < end) {
      sqlite3_stmt* stmt = nullptr;
      const char* tail = nullptr;
      int rc = sqlite3_prepare_v2(db_, next, static_cast<int>(end - next), &stmt, &tail);
      if (rc != SQLITE_OK) return sqlite_status(rc, db_, std::string_view(next, end - next));
      if (stmt == nullptr) break;  // only whitespace and comments remain
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      }
      Status status = rc == SQLITE_DONE ? Status{} : sqlite_status(rc, db_, sqlite3_sql(stmt));
      sqlite3_finalize(stmt);
      VIGIL_RETURN_IF_ERROR(status);
      next = tail;
    }
    return {};
  }

 private:
  Expected<sqlite3_stmt*> prepare(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
    if (cache_.size() >= kMaxCachedStatements) clear_cache();

    const std::string rewritten = rewrite_placeholders(sql);
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, rewritten.data(), static_cast<int>(rewritten.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) return sqlite_status(rc, db_, sql);
    if (stmt == nullptr) return invalid_argument("empty SQL statement");
    // Anything but whitespace and comments after the first statement is a second statement.
    const char* const end = rewritten.data() + rewritten.size();
    sqlite3_stmt* extra = nullptr;
    const int extra_rc =
        sqlite3_prepare_v2(db_, tail, static_cast<int>(end - tail), &extra, nullptr);
    if (extra_rc != SQLITE_OK || extra != nullptr) {
      sqlite3_finalize(extra);
      sqlite3_finalize(stmt);
      return internal_error("more than one statement in a query; use exec_script [" +
                            detail::sql_excerpt(sql) + "]");
    }
    cache_.emplace(std::string(sql), stmt);
    return stmt;
  }

  static int bind(sqlite3_stmt* stmt, int index, const Value& value) {
    struct Binder {
      sqlite3_stmt* stmt;
      int index;
      int operator()(std::monostate) const { return sqlite3_bind_null(stmt, index); }
      int operator()(int64_t v) const { return sqlite3_bind_int64(stmt, index, v); }
      int operator()(double v) const { return sqlite3_bind_double(stmt, index, v); }
      int operator()(const std::string& v) const {
        return sqlite3_bind_text64(stmt, index, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
      }
      int operator()(const Blob& v) const {
        // data() is never null, so an empty blob binds as a zero-length BLOB, not NULL.
        return sqlite3_bind_blob64(stmt, index, v.bytes.data(), v.bytes.size(), SQLITE_STATIC);
      }
    };
    return std::visit(Binder{stmt, index}, value);
  }

  static Value column_value(sqlite3_stmt* stmt, int c) {
    switch (sqlite3_column_type(stmt, c)) {
      case SQLITE_INTEGER: return static_cast<int64_t>(sqlite3_column_int64(stmt, c));
      case SQLITE_FLOAT: return sqlite3_column_double(stmt, c);
      case SQLITE_TEXT: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        const int size = sqlite3_column_bytes(stmt, c);
        return std::string(text != nullptr ? text : "", size);
      }
      case SQLITE_BLOB: {
        const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt, c));
        const int size = sqlite3_column_bytes(stmt, c);
        return Blob{bytes != nullptr ? std::string(bytes, size) : std::string()};
      }
      default: return std::monostate{};
    }
  }

  void clear_cache() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    cache_.clear();
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> cache_;
};

// Remembers the first failed statement: like PostgreSQL, a failed statement dooms the
// transaction it ran in (database.h), even when the callback goes on and returns ok.
class SqliteSession final : public Session {
 public:
  explicit SqliteSession(Connection& conn) : conn_(conn) {}
  Expected<Rows> query(std::string_view sql, std::span<const Value> params) override {
    return note(conn_.run(sql, params, nullptr));
  }
  Expected<int64_t> exec(std::string_view sql, std::span<const Value> params) override {
    int64_t changes = 0;
    Expected<Rows> rows = note(conn_.run(sql, params, &changes));
    if (!rows.ok()) return rows.status();
    return changes;
  }
  Status exec_script(std::string_view sql) override {
    Status status = conn_.exec_script(sql);
    if (!status.ok() && first_error_.ok()) first_error_ = status;
    return status;
  }
  const Status& first_error() const { return first_error_; }

 private:
  Expected<Rows> note(Expected<Rows> rows) {
    if (!rows.ok() && first_error_.ok()) first_error_ = rows.status();
    return rows;
  }

  Connection& conn_;
  Status first_error_;
};

// Rolls back a transaction still open when it goes out of scope (an early return or an
// exception from the caller's callback).
class RollbackGuard {
 public:
  explicit RollbackGuard(Connection& conn) : conn_(conn) {}
  RollbackGuard(const RollbackGuard&) = delete;
  RollbackGuard& operator=(const RollbackGuard&) = delete;
  ~RollbackGuard() { conn_.rollback_quietly(); }

 private:
  Connection& conn_;
};

Expected<std::unique_ptr<Connection>> open_connection(const std::string& target,
                                                      std::string_view shown, bool read_only,
                                                      int busy_timeout_ms) {
  sqlite3* db = nullptr;
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(target.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return unavailable("cannot open " + std::string(shown) + ": " + message);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  auto conn = std::make_unique<Connection>(db);
  std::string pragmas = "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";
  if (read_only) {
    pragmas += " PRAGMA query_only = ON;";
  } else {
    pragmas += " PRAGMA journal_mode = WAL;";  // persistent; in-memory databases ignore it
  }
  if (Status s = conn->exec_script(pragmas); !s.ok()) {
    return unavailable("cannot configure " + std::string(shown) + ": " + s.message());
  }
  return conn;
}

// Checkpoints the WAL on a thread of its own, so that a commit never waits for one (SQLite's
// automatic checkpoint runs in the commit that crosses wal_autocheckpoint pages, with its
// fsyncs, holding the write lock). The writer's WAL hook wakes it past kPages; PASSIVE never
// blocks writers or readers. Past kForcePages (the thread fell behind, or readers kept it from
// finishing) the commit checkpoints itself, as SQLite would, so the WAL stays bounded.
class Checkpointer {
 public:
  static constexpr int kPages = 1000;  // SQLite's default wal_autocheckpoint
  static constexpr int kForcePages = 16 * kPages;

  Checkpointer(std::unique_ptr<Connection> own, Connection& writer)
      : own_(std::move(own)), writer_(writer) {
    (void)writer_.exec_simple("PRAGMA wal_autocheckpoint = 0");
    sqlite3_wal_hook(writer_.handle(), &Checkpointer::on_commit, this);
    thread_ = std::thread([this] { run(); });
  }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  ~Checkpointer() {
    sqlite3_wal_hook(writer_.handle(), nullptr, nullptr);
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  static int on_commit(void* self, sqlite3* db, const char* name, int pages) {
    auto* c = static_cast<Checkpointer*>(self);
    if (pages >= kForcePages) {
      sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (pages >= kPages) {
      {
        std::lock_guard lock(c->mu_);
        c->wanted_ = true;
      }
      c->cv_.notify_one();
    }
    return SQLITE_OK;
  }

  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stopping_ || wanted_; });
      if (stopping_) return;
      wanted_ = false;
      lock.unlock();
      // A failure (SQLITE_BUSY: another process checkpoints) is retried at the next wake.
      sqlite3_wal_checkpoint_v2(own_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
      lock.lock();
    }
  }

  std::unique_ptr<Connection> own_;
  Connection& writer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;    // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string description, std::unique_ptr<Connection> writer,
                 std::vector<std::unique_ptr<Connection>> readers,
                 std::unique_ptr<Connection> checkpointing)
      : description_(std::move(description)),
        writer_(std::move(writer)),
        readers_(std::move(readers)) {
    for (auto& reader : readers_) idle_.push_back(reader.get());
    if (checkpointing) {
      checkpointer_ = std::make_unique<Checkpointer>(std::move(checkpointing), *writer_);
    }
  }
  ~SqliteDatabase() override { checkpointer_.reset(); }  // before the connections close

  Dialect dialect() const override { return Dialect::kSqlite; }
  std::string describe() const override { return description_; }

  Status run_read(const std::function<Status(Session&)>& fn) override {
    Connection& conn = borrow();
    struct GiveBack {
      SqliteDatabase* db;
      Connection* conn;
      ~GiveBack() { db->give_back(*conn); }
    } give_back_on_exit{this, &conn};

    VIGIL_RETURN_IF_ERROR(conn.exec_simple("BEGIN"));
    RollbackGuard guard(conn);
    SqliteSession session(conn);
    Status status = fn(session);
    if (status.ok() && conn.in_transaction()) status = conn.exec_simple("COMMIT");
    return status;
  }

  Status run_write(const std::function<Status(Session&)>& fn) override {
    std::lock_guard lock(writer_mu_);
    Connection& conn = *writer_;
    VIGIL_RETURN_IF_ERROR(conn.exec_simple("BEGIN IMMEDIATE"));
    RollbackGuard guard(conn);
    SqliteSession session(conn);
    Status status = fn(session);
    if (!status.ok()) return status;
    VIGIL_RETURN_IF_ERROR(session.first_error());
    if (!conn.in_transaction()) {
      return internal_error("the transaction ended inside write() (a COMMIT in the callback?)");
    }
    return conn.exec_simple("COMMIT");
  }

  Status run_ping() override {
    return read([](Session& session) { return session.query("SELECT 1").status(); });
  }

 private:
  Connection& borrow() {
    std::unique_lock lock(pool_mu_);
    pool_cv_.wait(lock, [this] { return !idle_.empty(); });
    Connection* conn = idle_.back();
    idle_.pop_back();
    return *conn;
  }

  void give_back(Connection& conn) {
    {
      std::lock_guard lock(pool_mu_);
      idle_.push_back(&conn);
    }
    pool_cv_.notify_one();
  }

  const std::string description_;
  std::mutex writer_mu_;
  const std::unique_ptr<Connection> writer_;  // guarded by writer_mu_
  const std::vector<std::unique_ptr<Connection>> readers_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<Connection*> idle_;               // guarded by pool_mu_
  std::unique_ptr<Checkpointer> checkpointer_;  // file databases only
};

}  // namespace

Expected<std::unique_ptr<Database>> open_sqlite_database(const SqliteConfig& config) {
  if (config.pool_size < 1) return invalid_argument("sqlite pool_size must be at least 1");
  std::string target = config.path;
  std::string description = "sqlite:" + config.path;
  if (config.path.empty()) {
    // The memdb VFS shares a database named "/..." between the connections of this process
    // that open it, with ordinary locking (so busy_timeout applies), and frees it when the
    // last one closes.
    static std::atomic<uint64_t> counter{0};
    target = "file:/vigil-mem-" + std::to_string(getpid()) + "-" + std::to_string(++counter) +
             "?vfs=memdb";
    description = "sqlite::memory:";
  }
  Expected<std::unique_ptr<Connection>> writer =
      open_connection(target, description, /*read_only=*/false, config.busy_timeout_ms);
  if (!writer.ok()) return writer.status();
  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < config.pool_size; ++i) {
    Expected<std::unique_ptr<Connection>> reader =
        open_connection(target, description, /*read_only=*/true, config.busy_timeout_ms);
    if (!reader.ok()) return reader.status();
    readers.push_back(std::move(reader).value());
  }
  std::unique_ptr<Connection> checkpointing;
  if (!config.path.empty()) {
    auto c = open_connection(target, description, /*read_only=*/false, config.busy_timeout_ms);
    if (!c.ok()) return c.status();
    checkpointing = std::move(c).value();
  }
  return std::unique_ptr<Database>(
      std::make_unique<SqliteDatabase>(std::move(description), std::move(writer).value(),
                                       std::move(readers), std::move(checkpointing)));
}

}  // namespace vigil::store
