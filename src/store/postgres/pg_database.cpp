#include "store/postgres/pg_database.h"

#include <libpq-fe.h>

#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <limits>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/sql_util.h"

namespace vigil::store {
namespace {

// Prepared statements kept per connection before they are all deallocated.
constexpr size_t kMaxCachedStatements = 512;

// Type OIDs (pg_type.dat) the result conversion cares about.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// Replaces every occurrence of `secret` in `text` (libpq messages should not echo the
// password, but nothing here relies on it).
std::string scrub(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "***");
    at += 3;
  }
  return text;
}

std::string first_line(const char* text) {
  std::string_view view = text != nullptr ? text : "";
  view = view.substr(0, view.find('\n'));
  return std::string(view);
}

bool is_unavailable_state(std::string_view state) {
  return state.starts_with("08") ||                                   // connection exception
         state == "57P01" || state == "57P02" || state == "57P03" ||  // shutdown, cannot connect
         state == "53300" ||                                          // too many connections
         state == "40001" || state == "40P01";  // serialization failure, deadlock: retry
}

// Maps a failed result (or a connection failure when `result` is null) to the store's error
// contract (database.h). Uses the primary message only: DETAIL carries row values.
Status pg_status(const PGresult* result, PGconn* conn, std::string_view sql) {
  const char* state_field =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const std::string state = state_field != nullptr ? state_field : "";
  std::string message = primary != nullptr ? primary : first_line(PQerrorMessage(conn));
  if (state.starts_with("22")) {
    // Data exceptions quote the offending input after a colon.
    message = message.substr(0, message.find(':'));
  }
  if (!state.empty()) message += " (SQLSTATE " + state + ")";
  if (!sql.empty()) message += " [" + detail::sql_excerpt(sql) + "]";
  if (state == "23505") return already_exists(std::move(message));
  if (state == "23503") return conflict(std::move(message));
  if (is_unavailable_state(state) || PQstatus(conn) == CONNECTION_BAD) {
    return unavailable(std::move(message));
  }
  return internal_error(std::move(message));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// bytea in text format: "\x" + hex (the default), or the older escape format.
std::string decode_bytea(std::string_view text) {
  std::string out;
  if (text.starts_with("\\x")) {
    out.reserve((text.size() - 2) / 2);
    for (size_t i = 2; i + 1 < text.size(); i += 2) {
      out += static_cast<char>(hex_digit(text[i]) * 16 + hex_digit(text[i + 1]));
    }
    return out;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (text[i] == '\\' && i + 3 < text.size()) {
      out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                               (text[i + 3] - '0'));
      i += 3;
    } else {
      out += text[i];
    }
  }
  return out;
}

Value parse_double(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    // A numeric beyond double's range.
    return text.starts_with('-') ? -std::numeric_limits<double>::infinity()
                                 : std::numeric_limits<double>::infinity();
  }
  if (ec != std::errc() || end != text.data() + text.size()) return std::string(text);
  return value;
}

Value parse_int(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::string(text);
  return value;
}

Value cell_value(const PGresult* result, int row, int col, Oid type) {
  if (PQgetisnull(result, row, col)) return std::monostate{};
  const std::string_view text(PQgetvalue(result, row, col), PQgetlength(result, row, col));
  switch (type) {
    case kBoolOid: return static_cast<int64_t>(text == "t" ? 1 : 0);
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: return parse_int(text);
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid: return parse_double(text);
    case kByteaOid: return Blob{decode_bytea(text)};
    default: return std::string(text);
  }
}

// Parameters in libpq's form. Everything is sent as text except blobs (binary), so the
// server infers types from the statement.
class Params {
 public:
  explicit Params(std::span<const Value> params) {
    text_.reserve(params.size());  // pointers into text_ must stay put
    for (const Value& param : params) {
      if (const auto* blob = std::get_if<Blob>(&param)) {
        // data() is never null: an empty blob is an empty bytea, not NULL.
        add(blob->bytes.data(), static_cast<int>(blob->bytes.size()), 1);
      } else if (const auto* s = std::get_if<std::string>(&param)) {
        add(s->c_str(), static_cast<int>(s->size()), 0);
      } else if (const auto* i = std::get_if<int64_t>(&param)) {
        add_text(std::to_string(*i));
      } else if (const auto* d = std::get_if<double>(&param)) {
        add_text(format_double(*d));
      } else {
        add(nullptr, 0, 0);  // NULL
      }
    }
  }
  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  static std::string format_double(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, d);  // shortest exact
    return std::string(buffer, end);
  }
  void add_text(std::string text) {
    text_.push_back(std::move(text));
    add(text_.back().c_str(), static_cast<int>(text_.back().size()), 0);
  }
  void add(const char* value, int length, int format) {
    values_.push_back(value);
    lengths_.push_back(length);
    formats_.push_back(format);
  }

  std::vector<std::string> text_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Prepared {
  std::string name;
  int param_count = 0;
};

// One libpq connection and its prepared statements. Used by one thread at a time.
class PgConnection {
 public:
  explicit PgConnection(PGconn* conn) : conn_(conn) { silence_notices(); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection() { PQfinish(conn_); }

  bool broken() const { return PQstatus(conn_) == CONNECTION_BAD; }
  // Reconnects with the original parameters; prepared statements are gone afterwards.
  bool reset() {
    statements_.clear();
    PQreset(conn_);
    return PQstatus(conn_) == CONNECTION_OK;
  }
  // NOTICEs ("relation already exists, skipping") would go to stderr; the store has no use
  // for them. Kept across PQreset.
  void silence_notices() {
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  std::string error_message() const { return first_line(PQerrorMessage(conn_)); }
  bool in_failed_transaction() const { return PQtransactionStatus(conn_) == PQTRANS_INERROR; }

  Status exec_simple(const char* sql) {
    Result result(PQexec(conn_, sql));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {};
    return pg_status(result.get(), conn_, sql);
  }

  void rollback_quietly() {
    const PGTransactionStatusType state = PQtransactionStatus(conn_);
    if (state == PQTRANS_INTRANS || state == PQTRANS_INERROR) {
      Result result(PQexec(conn_, "ROLLBACK"));
    }
  }

  Status exec_script(std::string_view sql) {
    Result result(PQexec(conn_, std::string(sql).c_str()));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
      return {};
    }
    return pg_status(result.get(), conn_, sql);
  }

  Expected<Rows> run(std::string_view sql, std::span<const Value> params, int64_t* changes) {
    Expected<const Prepared*> prepared = prepare(sql);
    if (!prepared.ok()) return prepared.status();
    if ((*prepared)->param_count != static_cast<int>(params.size())) {
      return invalid_argument("statement takes " + std::to_string((*prepared)->param_count) +
                              " parameters, " + std::to_string(params.size()) + " given [" +
                              detail::sql_excerpt(sql) + "]");
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const auto* text = std::get_if<std::string>(&params[i]);
      if (text != nullptr && text->find('\0') != std::string::npos) {
        return invalid_argument("text parameter $" + std::to_string(i + 1) +
                                " contains a NUL byte, which PostgreSQL text cannot hold; "
                                "bind a Blob [" +
                                detail::sql_excerpt(sql) + "]");
      }
    }
    const Params bound(params);
    Result result(PQexecPrepared(conn_, (*prepared)->name.c_str(), bound.size(), bound.values(),
                                 bound.lengths(), bound.formats(), /*resultFormat=*/0));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_EMPTY_QUERY) return invalid_argument("empty SQL statement");
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      return pg_status(result.get(), conn_, sql);
    }
    if (changes != nullptr) {
      const std::string_view command = PQcmdStatus(result.get());
      *changes = command.starts_with("SELECT") ? 0 : std::atoll(PQcmdTuples(result.get()));
    }
    return to_rows(result.get());
  }

 private:
  Expected<const Prepared*> prepare(std::string_view sql) {
    if (auto it = statements_.find(sql); it != statements_.end()) return &it->second;
    if (statements_.size() >= kMaxCachedStatements) {
      Result deallocated(PQexec(conn_, "DEALLOCATE ALL"));
      if (PQresultStatus(deallocated.get()) != PGRES_COMMAND_OK) {
        return pg_status(deallocated.get(), conn_, "DEALLOCATE ALL");
      }
      statements_.clear();
    }
    Prepared prepared;
    prepared.name = "vigil_" + std::to_string(next_statement_++);
    const std::string text(sql);
    Result made(PQprepare(conn_, prepared.name.c_str(), text.c_str(), 0, nullptr));
    if (PQresultStatus(made.get()) != PGRES_COMMAND_OK) return pg_status(made.get(), conn_, sql);
    Result described(PQdescribePrepared(conn_, prepared.name.c_str()));
    if (PQresultStatus(described.get()) != PGRES_COMMAND_OK) {
      return pg_status(described.get(), conn_, sql);
    }
    prepared.param_count = PQnparams(described.get());
    auto [it, inserted] = statements_.emplace(text, std::move(prepared));
    return &it->second;
  }

  static Rows to_rows(const PGresult* result) {
    const int column_count = PQnfields(result);
    const int row_count = PQntuples(result);
    std::vector<std::string> columns;
    std::vector<Oid> types;
    columns.reserve(column_count);
    types.reserve(column_count);
    for (int c = 0; c < column_count; ++c) {
      columns.emplace_back(PQfname(result, c));
      types.push_back(PQftype(result, c));
    }
    std::vector<std::vector<Value>> rows(row_count);
    for (int r = 0; r < row_count; ++r) {
      rows[r].reserve(column_count);
      for (int c = 0; c < column_count; ++c) rows[r].push_back(cell_value(result, r, c, types[c]));
    }
    return Rows(std::move(columns), std::move(rows));
  }

  PGconn* conn_;
  std::unordered_map<std::string, Prepared, StringHash, std::equal_to<>> statements_;
  uint64_t next_statement_ = 0;
};

// Remembers the first failure so write() can report it when the callback ignored it but
// PostgreSQL aborted the transaction.
class PgSession final : public Session {
 public:
  explicit PgSession(PgConnection& conn) : conn_(conn) {}
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

  PgConnection& conn_;
  Status first_error_;
};

struct ConninfoParts {
  std::string password;
  std::string description;  // postgresql://user@host:port/dbname
};

Expected<ConninfoParts> parse_conninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    // libpq's message may quote part of the string, password included: leave it out.
    PQfreemem(error);
    return invalid_argument("malformed PostgreSQL connection string");
  }
  std::unordered_map<std::string, std::string> values;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val != nullptr) values[option->keyword] = option->val;
  }
  PQconninfoFree(options);
  ConninfoParts parts;
  parts.password = values["password"];
  parts.description = "postgresql://";
  if (!values["user"].empty()) parts.description += values["user"] + "@";
  parts.description += values["host"].empty() ? values["hostaddr"] : values["host"];
  if (!values["port"].empty()) parts.description += ":" + values["port"];
  parts.description += "/" + values["dbname"];
  return parts;
}

class PgDatabase final : public Database {
 public:
  PgDatabase(PostgresConfig config, ConninfoParts parts)
      : config_(std::move(config)), parts_(std::move(parts)) {}

  Dialect dialect() const override { return Dialect::kPostgres; }
  std::string describe() const override { return parts_.description; }

  // Opens the first connection so open fails fast when the server cannot be reached.
  Status connect_first() {
    Expected<std::unique_ptr<PgConnection>> conn = connect();
    if (!conn.ok()) return conn.status();
    all_.push_back(std::move(conn).value());
    idle_.push_back(all_.back().get());
    return {};
  }

  Status run_read(const std::function<Status(Session&)>& fn) override {
    return transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", fn);
  }

  Status run_write(const std::function<Status(Session&)>& fn) override {
    return transaction("BEGIN", fn);
  }

  Status run_ping() override {
    Expected<PgConnection*> conn = checkout();
    if (!conn.ok()) return conn.status();
    CheckIn check_in{this, *conn};
    Status status = (*conn)->exec_simple("SELECT 1");
    if (!status.ok() && (*conn)->broken() && (*conn)->reset()) {
      status = (*conn)->exec_simple("SELECT 1");
    }
    return status;
  }

 private:
  struct CheckIn {
    PgDatabase* db;
    PgConnection* conn;
    ~CheckIn() { db->check_in(conn); }
  };

  // Rolls back what is still open on scope exit (early return, exception from fn).
  struct RollbackGuard {
    PgConnection* conn;
    ~RollbackGuard() { conn->rollback_quietly(); }
  };

  Status transaction(const char* begin, const std::function<Status(Session&)>& fn) {
    Expected<PgConnection*> checked_out = checkout();
    if (!checked_out.ok()) return checked_out.status();
    PgConnection* conn = *checked_out;
    CheckIn check_in{this, conn};

    Status status = conn->exec_simple(begin);
    if (!status.ok() && conn->broken() && conn->reset()) {
      // The server dropped an idle connection; nothing ran yet, so retrying is safe.
      status = conn->exec_simple(begin);
    }
    VIGIL_RETURN_IF_ERROR(status);
    RollbackGuard rollback{conn};
    PgSession session(*conn);
    status = fn(session);
    if (!status.ok()) return status;
    if (conn->in_failed_transaction()) {
      return session.first_error().ok()
                 ? internal_error("the transaction was aborted by a failed statement")
                 : session.first_error();
    }
    return conn->exec_simple("COMMIT");
  }

  Expected<std::unique_ptr<PgConnection>> connect() {
    const std::string timeout = std::to_string(config_.connect_timeout_s);
    // Keywords before dbname are defaults the conninfo (expanded from dbname) may override.
    const char* const keywords[] = {"connect_timeout", "client_encoding", "application_name",
                                    "dbname", nullptr};
    const char* const values[] = {timeout.c_str(), "UTF8", "vigil", config_.conninfo.c_str(),
                                  nullptr};
    PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
    if (conn == nullptr) return unavailable("cannot allocate a PostgreSQL connection");
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string message = scrub(first_line(PQerrorMessage(conn)), parts_.password);
      PQfinish(conn);
      return unavailable("cannot connect to " + parts_.description + ": " + message);
    }
    return std::make_unique<PgConnection>(conn);
  }

  // Waits for an idle connection or opens a new one while fewer than pool_size exist.
  Expected<PgConnection*> checkout() {
    PgConnection* conn = nullptr;
    {
      std::unique_lock lock(mu_);
      while (conn == nullptr) {
        if (!idle_.empty()) {
          conn = idle_.back();
          idle_.pop_back();
        } else if (static_cast<int>(all_.size()) + opening_ < config_.pool_size) {
          ++opening_;
          lock.unlock();
          Expected<std::unique_ptr<PgConnection>> opened = connect();
          lock.lock();
          --opening_;
          if (!opened.ok()) {
            cv_.notify_one();  // let a waiter try in our place
            return opened.status();
          }
          all_.push_back(std::move(opened).value());
          conn = all_.back().get();
        } else {
          cv_.wait(lock);
        }
      }
    }
    if (conn->broken() && !conn->reset()) {
      Status status = unavailable("cannot reconnect to " + parts_.description + ": " +
                                  scrub(conn->error_message(), parts_.password));
      check_in(conn);
      return status;
    }
    return conn;
  }

  void check_in(PgConnection* conn) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(conn);
    }
    cv_.notify_one();
  }

  const PostgresConfig config_;
  const ConninfoParts parts_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> all_;  // guarded by mu_
  std::vector<PgConnection*> idle_;                 // guarded by mu_
  int opening_ = 0;                                 // guarded by mu_
};

}  // namespace

Expected<std::unique_ptr<Database>> open_postgres_database(const PostgresConfig& config) {
  if (config.pool_size < 1) return invalid_argument("postgres pool_size must be at least 1");
  Expected<ConninfoParts> parts = parse_conninfo(config.conninfo);
  if (!parts.ok()) return parts.status();
  auto db = std::make_unique<PgDatabase>(config, std::move(parts).value());
  VIGIL_RETURN_IF_ERROR(db->connect_first());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace vigil::store
