// The store's behaviour suite, one set of tests for every Database implementation. A test
// binary includes this header once, defines a Backend and instantiates the suite:
//
//   struct SqliteFileBackend {
//     void set_up();              // may GTEST_SKIP() or fail; gives a fresh, empty database
//     void tear_down();
//     std::string url() const;    // for open_database()
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, StoreSuite, ::testing::Types<SqliteFileBackend>);
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <mutex>
#include <ostream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "store/database.h"
#include "store/migrations.h"

namespace vigil::store {

inline void PrintTo(const Blob& blob, std::ostream* os) {  // NOLINT: gtest's name
  *os << "Blob{" << blob.bytes.size() << " bytes}";
}

}  // namespace vigil::store

namespace vigil::store::testing {

inline const Status& status_of(const Status& s) { return s; }
template <typename T>
const Status& status_of(const Expected<T>& e) {
  return e.status();
}

#define ASSERT_STORE_OK(expr)                                             \
  do {                                                                    \
    const auto& store_result_ = (expr);                                   \
    ASSERT_TRUE(::vigil::store::testing::status_of(store_result_).ok())   \
        << ::vigil::store::testing::status_of(store_result_).to_string(); \
  } while (0)
#define EXPECT_STORE_OK(expr)                                             \
  do {                                                                    \
    const auto& store_result_ = (expr);                                   \
    EXPECT_TRUE(::vigil::store::testing::status_of(store_result_).ok())   \
        << ::vigil::store::testing::status_of(store_result_).to_string(); \
  } while (0)

// A one-shot signal between threads.
class Latch {
 public:
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// An account with its email ($1) and email key ($2), and one as migrations before 8 wrote it,
// without a key.
inline constexpr const char* kInsertUser =
    "INSERT INTO users (email, email_key, password_hash, role, created_at, updated_at) "
    "VALUES ($1, $2, 'h', 'user', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z')";
inline constexpr const char* kInsertUserBefore8 =
    "INSERT INTO users (email, password_hash, role, created_at, updated_at) "
    "VALUES ($1, 'h', 'user', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z')";

template <typename Backend>
class StoreSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.set_up();
    if (IsSkipped() || HasFatalFailure()) return;
    auto db = open(4);
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    db_ = std::move(db).value();
  }
  void TearDown() override {
    db_.reset();
    backend_.tear_down();
  }

  Expected<std::unique_ptr<Database>> open(int pool_size) {
    DatabaseOptions options;
    options.url = backend_.url();
    options.pool_size = pool_size;
    return open_database(options);
  }

  // The SQLite or the PostgreSQL text, whichever fits the database under test.
  std::string pick(std::string_view sqlite, std::string_view postgres) const {
    return std::string(db_->dialect() == Dialect::kSqlite ? sqlite : postgres);
  }

  // Migrates to version 7 and adds accounts with these emails, as migrations before 8 did.
  void accounts_before_email_key(std::initializer_list<const char*> emails) {
    ASSERT_STORE_OK(Migrator(*db_).up(7));
    for (const char* email : emails) {
      ASSERT_STORE_OK(db_->exec(kInsertUserBefore8, {std::string(email)}));
    }
  }

  void exec_script(const std::string& sql) {
    ASSERT_STORE_OK(db_->write([&](Session& s) { return s.exec_script(sql); }));
  }

  int64_t count(const std::string& table) {
    auto rows = db_->query("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(rows.ok()) << rows.status().to_string();
    return rows.ok() ? rows->get_int(0, 0, -1) : -1;
  }

  bool table_exists(const std::string& table) {
    auto rows =
        db_->query(pick("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
                        "SELECT COUNT(*) FROM information_schema.tables "
                        "WHERE table_schema = current_schema() AND table_name = $1"),
                   {table});
    EXPECT_TRUE(rows.ok()) << rows.status().to_string();
    return rows.ok() && rows->get_int(0, 0) == 1;
  }

  // items(id auto-assigned, name)
  void create_items() {
    exec_script(pick("CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)",
                     "CREATE TABLE items (id BIGSERIAL PRIMARY KEY, name TEXT)"));
  }

  Backend backend_;
  std::unique_ptr<Database> db_;
};

TYPED_TEST_SUITE_P(StoreSuite);

TYPED_TEST_P(StoreSuite, PingAndDescribe) {
  EXPECT_STORE_OK(this->db_->ping());
  EXPECT_FALSE(this->db_->describe().empty());
}

TYPED_TEST_P(StoreSuite, EveryValueTypeRoundTrips) {
  Database& db = *this->db_;
  this->exec_script(this->pick(
      "CREATE TABLE kinds (id INTEGER PRIMARY KEY, i INTEGER, d REAL, t TEXT, b BLOB)",
      "CREATE TABLE kinds (id INTEGER PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, t TEXT, "
      "b BYTEA)"));
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes += static_cast<char>(c);
  const std::vector<std::array<Value, 4>> rows = {
      {std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}},
      {std::numeric_limits<int64_t>::min(), 0.0, std::string(), Blob{}},
      {std::numeric_limits<int64_t>::max(), -1.5e300,
       std::string("héllo wörld — 日本語 🙂"), Blob{std::string("\0\x01\xff\0z\0", 6)}},
      {int64_t{-1}, 0.1, std::string("it's \"quoted\" $1 ?1 \\ back\nslash"), Blob{all_bytes}},
      {int64_t{0}, 3.141592653589793, std::string("x"), Blob{std::string("\\x00")}},
      {int64_t{1} << 53, std::numeric_limits<double>::max(), std::string(" "),
       Blob{std::string(1, '\0')}},
      {int64_t{7}, std::numeric_limits<double>::min(), std::string("'"), Blob{"plain"}},
  };
  ASSERT_STORE_OK(db.write([&](Session& s) -> Status {
    for (size_t r = 0; r < rows.size(); ++r) {
      std::vector<Value> params = {static_cast<int64_t>(r)};
      params.insert(params.end(), rows[r].begin(), rows[r].end());
      auto n = s.exec("INSERT INTO kinds (id, i, d, t, b) VALUES ($1, $2, $3, $4, $5)", params);
      if (!n.ok()) return n.status();
      if (*n != 1) return internal_error("expected one row changed");
    }
    return {};
  }));
  auto got = db.query("SELECT i, d, t, b FROM kinds ORDER BY id");
  ASSERT_STORE_OK(got);
  ASSERT_EQ(got->size(), rows.size());
  EXPECT_EQ(got->columns(), (std::vector<std::string>{"i", "d", "t", "b"}));
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < 4; ++c) {
      EXPECT_EQ(got->at(r, c), rows[r][c]) << "row " << r << " column " << got->columns()[c];
    }
  }
  EXPECT_TRUE(got->is_null(0, 0));
  EXPECT_EQ(got->get_blob(3, 3), all_bytes);
  EXPECT_EQ(got->get_int(1, 0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(got->get_text(2, 2), "héllo wörld — 日本語 🙂");
}

TYPED_TEST_P(StoreSuite, PlaceholdersBindByNumber) {
  Database& db = *this->db_;
  this->exec_script("CREATE TABLE pairs (a TEXT, b TEXT)");
  ASSERT_STORE_OK(db.exec("INSERT INTO pairs (a, b) VALUES ($2, $1)", {"first", "second"}));
  ASSERT_STORE_OK(db.exec("INSERT INTO pairs (a, b) VALUES ($1, $1)", {"twice"}));
  auto rows =
      db.query("SELECT a, b FROM pairs WHERE a = $2 OR b = $1 ORDER BY a", {"first", "twice"});
  ASSERT_STORE_OK(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->get_text(0, 0), "second");
  EXPECT_EQ(rows->get_text(0, 1), "first");
  EXPECT_EQ(rows->get_text(1, 0), "twice");
  EXPECT_EQ(rows->get_text(1, 1), "twice");
}

TYPED_TEST_P(StoreSuite, DollarInsideLiteralIsNotAPlaceholder) {
  Database& db = *this->db_;
  this->exec_script("CREATE TABLE pairs (a TEXT, \"$2\" TEXT)");
  ASSERT_STORE_OK(
      db.exec("INSERT INTO pairs (a, \"$2\") VALUES ('$1 and ''$2''', $1) -- $2 is no parameter",
              {"value"}));
  auto rows = db.query("SELECT a, \"$2\" FROM pairs /* $3 */ WHERE \"$2\" = $1", {"value"});
  ASSERT_STORE_OK(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->get_text(0, 0), "$1 and '$2'");
  EXPECT_EQ(rows->get_text(0, 1), "value");
  EXPECT_EQ(rows->columns()[1], "$2");
}

TYPED_TEST_P(StoreSuite, ReturningGivesNewIds) {
  Database& db = *this->db_;
  this->create_items();
  std::vector<int64_t> ids;
  ASSERT_STORE_OK(db.write([&](Session& s) -> Status {
    for (const char* name : {"a", "b"}) {
      auto rows = s.query("INSERT INTO items (name) VALUES ($1) RETURNING id", {{name}});
      if (!rows.ok()) return rows.status();
      ids.push_back(rows->get_int(0, 0, -1));
    }
    return {};
  }));
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 2}));
  // The convenience query() runs an INSERT ... RETURNING in a write transaction.
  auto third = db.query("INSERT INTO items (name) VALUES ($1) RETURNING id, name", {"c"});
  ASSERT_STORE_OK(third);
  EXPECT_EQ(third->get_int(0, 0), 3);
  EXPECT_EQ(third->get_text(0, 1), "c");
}

TYPED_TEST_P(StoreSuite, UniqueViolationIsAlreadyExists) {
  Database& db = *this->db_;
  Migrator migrator(db);
  ASSERT_STORE_OK(migrator.up());
  ASSERT_STORE_OK(db.exec(kInsertUser, {"Alice@Example.com", "alice@example.com"}));
  auto again = db.exec(kInsertUser, {"alice@example.com", "alice@example.com"});  // email_key
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists) << again.status().to_string();
  EXPECT_EQ(again.status().message().find("alice@example.com"), std::string::npos)
      << "error messages must not carry parameter values: " << again.status().message();

  ASSERT_STORE_OK(db.exec("INSERT INTO settings (key, value) VALUES ($1, $2)", {"k", "v"}));
  auto key_again = db.exec("INSERT INTO settings (key, value) VALUES ($1, $2)", {"k", "w"});
  EXPECT_EQ(key_again.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(this->count("users"), 1);
}

TYPED_TEST_P(StoreSuite, ForeignKeyViolationIsConflict) {
  Database& db = *this->db_;
  this->exec_script(
      "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
      "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL "
      "REFERENCES parent (id))");
  auto orphan = db.exec("INSERT INTO child (id, parent_id) VALUES (1, $1)", {int64_t{42}});
  EXPECT_EQ(orphan.status().code(), ErrorCode::kConflict) << orphan.status().to_string();
  ASSERT_STORE_OK(db.exec("INSERT INTO parent (id) VALUES (1)"));
  ASSERT_STORE_OK(db.exec("INSERT INTO child (id, parent_id) VALUES (1, 1)"));
  auto in_use = db.exec("DELETE FROM parent WHERE id = $1", {int64_t{1}});
  EXPECT_EQ(in_use.status().code(), ErrorCode::kConflict) << in_use.status().to_string();
  EXPECT_EQ(this->count("parent"), 1);
}

TYPED_TEST_P(StoreSuite, WriteRollsBackWhenTheCallbackFails) {
  Database& db = *this->db_;
  this->create_items();
  const std::string insert = "INSERT INTO items (name) VALUES ($1)";
  Status failed = db.write([&](Session& s) -> Status {
    VIGIL_RETURN_IF_ERROR(s.exec(insert, {{Value{"a"}}}).status());
    VIGIL_RETURN_IF_ERROR(s.exec(insert, {{Value{"b"}}}).status());
    return conflict("changed my mind");
  });
  EXPECT_EQ(failed.code(), ErrorCode::kConflict);
  EXPECT_EQ(failed.message(), "changed my mind");
  EXPECT_EQ(this->count("items"), 0);

  // A failed statement dooms the transaction even when the callback carries on.
  Status doomed = db.write([&](Session& s) -> Status {
    VIGIL_RETURN_IF_ERROR(s.exec(insert, {{Value{"c"}}}).status());
    (void)s.exec("INSERT INTO no_such_table (x) VALUES (1)");
    return Status{};
  });
  EXPECT_FALSE(doomed.ok());
  EXPECT_EQ(this->count("items"), 0);

  // The connection is fine afterwards.
  ASSERT_STORE_OK(db.exec(insert, {"d"}));
  EXPECT_EQ(this->count("items"), 1);
}

TYPED_TEST_P(StoreSuite, ReadSeesOnlyCommittedData) {
  Database& db = *this->db_;
  this->create_items();
  Latch inserted;
  Latch checked;
  std::thread writer([&] {
    EXPECT_STORE_OK(db.write([&](Session& s) -> Status {
      VIGIL_RETURN_IF_ERROR(s.exec("INSERT INTO items (name) VALUES ('x')").status());
      inserted.open();
      checked.wait();
      return {};
    }));
  });
  inserted.wait();
  EXPECT_EQ(this->count("items"), 0);  // not committed yet
  checked.open();
  writer.join();
  EXPECT_EQ(this->count("items"), 1);
}

TYPED_TEST_P(StoreSuite, ReadKeepsOneSnapshot) {
  Database& db = *this->db_;
  this->create_items();
  ASSERT_STORE_OK(db.exec("INSERT INTO items (name) VALUES ('before')"));
  ASSERT_STORE_OK(db.read([&](Session& s) -> Status {
    auto first = s.query("SELECT COUNT(*) FROM items");
    if (!first.ok()) return first.status();
    std::thread writer([&] { EXPECT_STORE_OK(db.exec("INSERT INTO items (name) VALUES ('x')")); });
    writer.join();  // committed while this read is open
    auto second = s.query("SELECT COUNT(*) FROM items");
    if (!second.ok()) return second.status();
    EXPECT_EQ(first->get_int(0, 0), 1);
    EXPECT_EQ(second->get_int(0, 0), 1);
    return {};
  }));
  EXPECT_EQ(this->count("items"), 2);
}

TYPED_TEST_P(StoreSuite, ConcurrentWritersAllLand) {
  Database& db = *this->db_;
  this->exec_script(
      "CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
      "INSERT INTO counters (id, n) VALUES (1, 0);"
      "CREATE TABLE events (worker INTEGER NOT NULL, seq INTEGER NOT NULL)");
  constexpr int kThreads = 4;
  constexpr int kWrites = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        Status s = db.write([&](Session& session) -> Status {
          VIGIL_RETURN_IF_ERROR(
              session.exec("UPDATE counters SET n = n + 1 WHERE id = 1").status());
          return session
              .exec("INSERT INTO events (worker, seq) VALUES ($1, $2)",
                    {{Value{int64_t{t}}, Value{int64_t{i}}}})
              .status();
        });
        if (!s.ok()) {
          ADD_FAILURE() << s.to_string();
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto n = db.query("SELECT n FROM counters WHERE id = 1");
  ASSERT_STORE_OK(n);
  EXPECT_EQ(n->get_int(0, 0), kThreads * kWrites);
  EXPECT_EQ(this->count("events"), kThreads * kWrites);
}

TYPED_TEST_P(StoreSuite, ConcurrentReadersShareASmallPool) {
  this->create_items();
  ASSERT_STORE_OK(this->db_->exec("INSERT INTO items (name) VALUES ('a'), ('b'), ('c')"));
  auto small = this->open(2);
  ASSERT_STORE_OK(small);
  Database& db = **small;
  constexpr int kThreads = 8;
  constexpr int kReads = 20;
  std::atomic<int> wrong{0};
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kReads; ++i) {
        Status s = db.read([&](Session& session) -> Status {
          const int now = ++inside;
          for (int seen = most_inside.load(); now > seen;) {
            if (most_inside.compare_exchange_weak(seen, now)) break;
          }
          auto rows = session.query("SELECT COUNT(*) FROM items WHERE name <> $1", {{"b"}});
          --inside;
          if (!rows.ok()) return rows.status();
          if (rows->get_int(0, 0) != 2) ++wrong;
          return {};
        });
        if (!s.ok()) {
          ADD_FAILURE() << s.to_string();
          ++wrong;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(most_inside.load(), 2) << "more reads at once than pooled connections";
}

TYPED_TEST_P(StoreSuite, WritesInsideReadAreRejected) {
  Database& db = *this->db_;
  this->create_items();
  Status s = db.read([](Session& session) {
    return session.exec("INSERT INTO items (name) VALUES ('x')").status();
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(this->count("items"), 0);
}

TYPED_TEST_P(StoreSuite, ExecReportsChangedRows) {
  Database& db = *this->db_;
  this->create_items();
  auto inserted = db.exec("INSERT INTO items (name) VALUES ('a'), ('b'), ('c')");
  ASSERT_STORE_OK(inserted);
  EXPECT_EQ(*inserted, 3);
  auto updated = db.exec("UPDATE items SET name = $1 WHERE name <> $2", {"z", "a"});
  ASSERT_STORE_OK(updated);
  EXPECT_EQ(*updated, 2);
  auto none = db.exec("DELETE FROM items WHERE name = $1", {"nobody"});
  ASSERT_STORE_OK(none);
  EXPECT_EQ(*none, 0);
  auto select = db.exec("SELECT * FROM items");
  ASSERT_STORE_OK(select);
  EXPECT_EQ(*select, 0);
}

TYPED_TEST_P(StoreSuite, BadSqlIsAnErrorNotACrash) {
  Database& db = *this->db_;
  this->create_items();
  auto typo = db.query("SELEC 1");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().code(), ErrorCode::kInternal) << typo.status().to_string();
  auto missing = db.query("SELECT * FROM no_such_table");
  EXPECT_EQ(missing.status().code(), ErrorCode::kInternal) << missing.status().to_string();
  auto too_many = db.query("SELECT name FROM items WHERE id = $1", {int64_t{1}, int64_t{2}});
  EXPECT_EQ(too_many.status().code(), ErrorCode::kInvalidArgument);
  auto too_few = db.query("SELECT name FROM items WHERE id = $1");
  EXPECT_EQ(too_few.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(db.query("SELECT 1; SELECT 2").ok());
  EXPECT_FALSE(db.query("").ok());
  EXPECT_FALSE(db.exec("INSERT INTO items (id, name) VALUES (NULL, 'x') RETURNING nope").ok());
  // Nothing is left broken.
  EXPECT_STORE_OK(db.ping());
  EXPECT_STORE_OK(db.exec("INSERT INTO items (name) VALUES ('fine')"));
  EXPECT_EQ(this->count("items"), 1);
}

TYPED_TEST_P(StoreSuite, UnknownSchemeIsInvalidArgument) {
  DatabaseOptions options;
  options.url = "mysql://root:hunter2@localhost/vigil";
  auto db = open_database(options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(db.status().message().find("mysql"), std::string::npos) << db.status().message();
  EXPECT_EQ(db.status().message().find("hunter2"), std::string::npos) << db.status().message();
}

TYPED_TEST_P(StoreSuite, DataOutlivesTheDatabaseObject) {
  this->create_items();
  ASSERT_STORE_OK(this->db_->exec("INSERT INTO items (name) VALUES ('kept')"));
  this->db_.reset();
  auto reopened = this->open(1);
  ASSERT_STORE_OK(reopened);
  auto rows = (*reopened)->query("SELECT name FROM items");
  ASSERT_STORE_OK(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->get_text(0, 0), "kept");
}

TYPED_TEST_P(StoreSuite, EmbeddedMigrationsRoundTrip) {
  Database& db = *this->db_;
  Migrator migrator(db);
  const int known = static_cast<int>(embedded_migrations(db.dialect()).size());
  ASSERT_GE(known, 1);
  EXPECT_EQ(migrator.latest_known_version(), embedded_migrations(db.dialect()).back().version);
  EXPECT_EQ(migrator.check_current().code(), ErrorCode::kFailedPrecondition);

  auto ran = migrator.up();
  ASSERT_STORE_OK(ran);
  EXPECT_EQ(*ran, known);
  EXPECT_TRUE(this->table_exists("users"));
  EXPECT_TRUE(this->table_exists("settings"));
  EXPECT_STORE_OK(migrator.check_current());
  EXPECT_STORE_OK(migrator.check_not_newer());
  auto version = migrator.current_version();
  ASSERT_STORE_OK(version);
  EXPECT_EQ(*version, migrator.latest_known_version());
  auto again = migrator.up();
  ASSERT_STORE_OK(again);
  EXPECT_EQ(*again, 0);

  auto states = migrator.status();
  ASSERT_STORE_OK(states);
  ASSERT_EQ(states->size(), static_cast<size_t>(known));
  const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  EXPECT_EQ((*states)[0].version, 1);
  EXPECT_EQ((*states)[0].name, "users");
  for (const MigrationState& state : *states) {
    EXPECT_TRUE(state.applied) << state.version;
    EXPECT_TRUE(std::regex_match(state.applied_at, rfc3339)) << state.applied_at;
  }

  auto reverted = migrator.down(known + 5);  // more steps than there are is fine
  ASSERT_STORE_OK(reverted);
  EXPECT_EQ(*reverted, known);
  EXPECT_FALSE(this->table_exists("users"));
  EXPECT_FALSE(this->table_exists("settings"));
  EXPECT_FALSE(db.query("SELECT COUNT(*) FROM users").ok());
  states = migrator.status();
  ASSERT_STORE_OK(states);
  for (const MigrationState& state : *states) {
    EXPECT_FALSE(state.applied) << state.version;
    EXPECT_EQ(state.applied_at, "");
  }
  EXPECT_EQ(migrator.check_current().code(), ErrorCode::kFailedPrecondition);

  ran = migrator.up();
  ASSERT_STORE_OK(ran);
  EXPECT_EQ(*ran, known);
  EXPECT_TRUE(this->table_exists("users"));
}

TYPED_TEST_P(StoreSuite, AuditAtBecomesEpochMicrosAndBack) {
  // Migration 5 turns audit_log.at from RFC 3339 text into microseconds since the epoch; the
  // rows written before it keep their instant (to the millisecond they were stored with).
  Database& db = *this->db_;
  Migrator migrator(db);
  ASSERT_STORE_OK(migrator.up(4));
  const char* insert =
      "INSERT INTO audit_log (at, request_id, user_id, user_email, method, path, status, "
      "latency_us, bytes_in, bytes_out, ip) VALUES ($1, 'r1', NULL, NULL, 'GET', '/healthz', 200, "
      "5, 0, 2, '127.0.0.1')";
  ASSERT_STORE_OK(db.exec(insert, {Value(std::string("2026-11-23T10:15:30.123Z"))}));
  ASSERT_STORE_OK(db.exec(insert, {Value(std::string("1970-01-01T00:00:00.000Z"))}));
  ASSERT_STORE_OK(migrator.up(5));
  auto rows = db.query("SELECT at, request_id, path FROM audit_log ORDER BY id");
  ASSERT_STORE_OK(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->get_int(0, 0), int64_t{1795428930123000});
  EXPECT_EQ(rows->get_int(1, 0), 0);
  EXPECT_EQ(rows->get_text(0, 2), "/healthz");
  // (Another statement text: PostgreSQL keeps the parameter types a prepared statement had.)
  ASSERT_STORE_OK(db.exec(std::string(insert) + " -- at is an integer now",
                          {Value(int64_t{1795428930456000})}));
  auto after =
      db.query("SELECT COUNT(*) FROM audit_log WHERE at >= $1", {Value(int64_t{1795428930123000})});
  ASSERT_STORE_OK(after);
  EXPECT_EQ(after->get_int(0, 0), 2);

  auto reverted = migrator.down(1);
  ASSERT_STORE_OK(reverted);
  rows = db.query("SELECT at FROM audit_log ORDER BY id");
  ASSERT_STORE_OK(rows);
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ(rows->get_text(0, 0), "2026-11-23T10:15:30.123Z");
  EXPECT_EQ(rows->get_text(1, 0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rows->get_text(2, 0), "2026-11-23T10:15:30.456Z");
}

// The two records the audit migration tests start from, as a format 1 segment (a JSON array
// of objects). Compared parsed: PostgreSQL's json_build_object puts spaces around the colons.
inline void expect_sample_segment(const std::string& text) {
  boost::system::error_code ec;
  auto records = boost::json::parse(text, ec);
  ASSERT_FALSE(ec) << text;
  ASSERT_TRUE(records.is_array()) << text;
  ASSERT_EQ(records.as_array().size(), 2u) << text;
  const auto& r1 = records.as_array()[0].as_object();  // oldest first
  const auto& r2 = records.as_array()[1].as_object();
  EXPECT_EQ(r1.at("at").as_string(), "2026-11-23T10:15:30.123Z");
  EXPECT_EQ(r1.at("request_id").as_string(), "r1");
  EXPECT_TRUE(r1.at("user").is_null());
  EXPECT_EQ(r1.at("method").as_string(), "GET");
  EXPECT_EQ(r1.at("path").as_string(), "/healthz");
  EXPECT_EQ(r1.at("status").to_number<int64_t>(), 200);
  EXPECT_EQ(r1.at("latency_us").to_number<int64_t>(), 5);
  EXPECT_EQ(r1.at("bytes_in").to_number<int64_t>(), 0);
  EXPECT_EQ(r1.at("bytes_out").to_number<int64_t>(), 2);
  EXPECT_EQ(r1.at("ip").as_string(), "::1");
  EXPECT_EQ(r2.at("at").as_string(), "2026-11-23T10:15:31.456Z");
  EXPECT_EQ(r2.at("user").at("id").to_number<int64_t>(), 7);
  EXPECT_EQ(r2.at("user").at("email").as_string(), "a@b.c");
  EXPECT_EQ(r2.at("path").as_string(), "/q\"uote");
}

TYPED_TEST_P(StoreSuite, AuditRowsBecomeSegmentsAndBack) {
  // Migration 6 packs audit_log's rows into audit_segments (a JSON array per 8192 rows, the
  // objects the writer and the access log use); reverting it unpacks them.
  Database& db = *this->db_;
  Migrator migrator(db);
  ASSERT_STORE_OK(migrator.up(5));
  const char* insert =
      "INSERT INTO audit_log (at, request_id, user_id, user_email, method, path, status, "
      "latency_us, bytes_in, bytes_out, ip) VALUES ($1, $2, $3, $4, 'GET', $5, 200, 5, 0, 2, "
      "'::1')";
  ASSERT_STORE_OK(db.exec(insert, {Value(int64_t{1795428930123000}), Value(std::string("r1")),
                                   Value(), Value(), Value(std::string("/healthz"))}));
  ASSERT_STORE_OK(db.exec(
      insert, {Value(int64_t{1795428931456000}), Value(std::string("r2")), Value(int64_t{7}),
               Value(std::string("a@b.c")), Value(std::string("/q\"uote"))}));
  ASSERT_STORE_OK(migrator.up(6));
  auto rows = db.query("SELECT first_at, last_at, count, records FROM audit_segments");
  ASSERT_STORE_OK(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->get_int(0, 0), int64_t{1795428930123000});
  EXPECT_EQ(rows->get_int(0, 1), int64_t{1795428931456000});
  EXPECT_EQ(rows->get_int(0, 2), 2);
  expect_sample_segment(rows->get_text(0, 3));

  ASSERT_STORE_OK(migrator.down(1));
  rows = db.query(
      "SELECT at, request_id, user_id, user_email, path, status, ip FROM audit_log "
      "ORDER BY id");
  ASSERT_STORE_OK(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->get_int(0, 0), int64_t{1795428930123000});
  EXPECT_EQ(rows->get_text(0, 1), "r1");
  EXPECT_TRUE(rows->is_null(0, 2));
  EXPECT_EQ(rows->get_int(1, 0), int64_t{1795428931456000});
  EXPECT_EQ(rows->get_int(1, 2), 7);
  EXPECT_EQ(rows->get_text(1, 3), "a@b.c");
  EXPECT_EQ(rows->get_text(1, 4), "/q\"uote");
  EXPECT_EQ(rows->get_int(1, 5), 200);
  EXPECT_EQ(rows->get_text(1, 6), "::1");
}

TYPED_TEST_P(StoreSuite, AuditColumnsBecomeArraysWhenReverted) {
  // Migration 7 adds audit_segments.format; the writer's format 2 holds columns. Reverting it
  // turns those back into the array of objects that migration 6 (and its revert) reads.
  Database& db = *this->db_;
  Migrator migrator(db);
  ASSERT_STORE_OK(migrator.up(7));
  const std::string columns =
      R"({"v":2,"t0":1795428930123000,"at":[0,1333000],"rid":["r1","r2"],"u":[0,1],)"
      R"("users":[[7,"a@b.c"]],"m":[0,0],"methods":["GET"],"p":[0,1],)"
      R"("paths":["/healthz","/q\"uote"],"s":[200,200],"lat":[5,5],"in":[0,0],)"
      R"("out":[2,2],"ip":[0,0],"ips":["::1"]})";
  ASSERT_STORE_OK(
      db.exec("INSERT INTO audit_segments (first_at, last_at, count, format, records) "
              "VALUES (1795428930123000, 1795428931456000, 2, 2, $1)",
              {Value(columns)}));
  ASSERT_STORE_OK(migrator.down(1));
  auto rows = db.query("SELECT count, records FROM audit_segments");
  ASSERT_STORE_OK(rows);
  ASSERT_EQ(rows->size(), 1u);
  expect_sample_segment(rows->get_text(0, 1));
  // And on down to rows, as before.
  ASSERT_STORE_OK(migrator.down(1));
  rows = db.query("SELECT request_id, user_id, path FROM audit_log ORDER BY id");
  ASSERT_STORE_OK(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->get_text(1, 0), "r2");
  EXPECT_EQ(rows->get_int(1, 1), 7);
  EXPECT_EQ(rows->get_text(1, 2), "/q\"uote");
}

TYPED_TEST_P(StoreSuite, EmailKeysAreFilledForExistingAccounts) {
  // Migration 8 adds users.email_key, what emails are unique by (NFC + Unicode case folding,
  // computed in C++), and fills it for the accounts there are; reverting it goes back to
  // lower(email).
  Database& db = *this->db_;
  Migrator migrator(db);
  this->accounts_before_email_key({"\xc3\x89VA@Example.com", "bob@example.com"});
  ASSERT_STORE_OK(migrator.up(8));
  auto rows = db.query("SELECT email, email_key FROM users ORDER BY id");
  ASSERT_STORE_OK(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->get_text(0, 0), "\xc3\x89VA@Example.com");  // kept as given
  EXPECT_EQ(rows->get_text(0, 1), "\xc3\xa9va@example.com");
  EXPECT_EQ(rows->get_text(1, 1), "bob@example.com");
  auto same_key = db.exec(kInsertUser, {"e\xcc\x81va@example.com", "\xc3\xa9va@example.com"});
  EXPECT_EQ(same_key.status().code(), ErrorCode::kAlreadyExists) << same_key.status().to_string();
  // No lower(email) index any more: uniqueness is the key's alone.
  ASSERT_STORE_OK(db.exec(kInsertUser, {"BOB@example.com", "bob@example.com (another key)"}));
  if (db.dialect() == Dialect::kPostgres) {  // SQLite cannot add the NOT NULL rule
    EXPECT_FALSE(db.exec(kInsertUserBefore8, {"keyless@example.com"}).ok());
  }

  ASSERT_STORE_OK(db.exec("DELETE FROM users WHERE email = $1", {"BOB@example.com"}));
  ASSERT_STORE_OK(migrator.down(1));
  EXPECT_FALSE(db.query("SELECT email_key FROM users").ok());
  EXPECT_EQ(db.exec(kInsertUserBefore8, {"BOB@example.com"}).status().code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(this->count("users"), 2);
}

TYPED_TEST_P(StoreSuite, EmailsThatBecomeOneStopTheEmailKeyMigration) {
  // "éva" composed and decomposed: two accounts under lower(email), one under the key. The
  // migration names them and changes nothing; with one of them gone it runs.
  Database& db = *this->db_;
  Migrator migrator(db);
  this->accounts_before_email_key({"\xc3\xa9va@example.com", "E\xcc\x81VA@example.com"});
  auto ids = db.query("SELECT id FROM users ORDER BY id");
  ASSERT_STORE_OK(ids);
  const std::string first = std::to_string(ids->get_int(0, 0));
  const std::string second = std::to_string(ids->get_int(1, 0));
  auto ran = migrator.up(8);
  ASSERT_FALSE(ran.ok());
  EXPECT_EQ(ran.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ran.status().message(),
            "migration 8_email_key failed: accounts " + first + " and " + second +
                " have one email ignoring case and Unicode normalisation; delete one of them, "
                "then migrate");
  auto version = migrator.current_version();
  ASSERT_STORE_OK(version);
  EXPECT_EQ(*version, 7);
  EXPECT_FALSE(db.query("SELECT email_key FROM users").ok());

  ASSERT_STORE_OK(db.exec("DELETE FROM users WHERE id = " + second));
  ASSERT_STORE_OK(migrator.up(8));
}

TYPED_TEST_P(StoreSuite, MigratorStopsAtTargetAndRevertsNewestFirst) {
  Database& db = *this->db_;
  std::vector<Migration> migrations;
  for (int v : {3, 1, 2}) {  // given out of order on purpose
    const std::string table = "m" + std::to_string(v);
    migrations.push_back(
        {v, "make_" + table, "CREATE TABLE " + table + " (x INTEGER)", "DROP TABLE " + table});
  }
  Migrator migrator(db, migrations);
  EXPECT_EQ(migrator.latest_known_version(), 3);
  auto ran = migrator.up(2);
  ASSERT_STORE_OK(ran);
  EXPECT_EQ(*ran, 2);
  EXPECT_TRUE(this->table_exists("m1"));
  EXPECT_TRUE(this->table_exists("m2"));
  EXPECT_FALSE(this->table_exists("m3"));
  ran = migrator.up();
  ASSERT_STORE_OK(ran);
  EXPECT_EQ(*ran, 1);
  auto reverted = migrator.down(2);
  ASSERT_STORE_OK(reverted);
  EXPECT_EQ(*reverted, 2);
  EXPECT_TRUE(this->table_exists("m1"));
  EXPECT_FALSE(this->table_exists("m2"));
  EXPECT_FALSE(this->table_exists("m3"));
  auto version = migrator.current_version();
  ASSERT_STORE_OK(version);
  EXPECT_EQ(*version, 1);
}

TYPED_TEST_P(StoreSuite, FailedMigrationLeavesNoTrace) {
  Database& db = *this->db_;
  Migrator migrator(
      db, {{1, "good", "CREATE TABLE good (x INTEGER)", "DROP TABLE good"},
           {2, "broken", "CREATE TABLE half (x INTEGER); THIS IS NOT SQL;", "DROP TABLE half"}});
  auto ran = migrator.up();
  ASSERT_FALSE(ran.ok());
  EXPECT_NE(ran.status().message().find("2_broken"), std::string::npos) << ran.status().message();
  EXPECT_TRUE(this->table_exists("good"));
  EXPECT_FALSE(this->table_exists("half"));
  auto version = migrator.current_version();
  ASSERT_STORE_OK(version);
  EXPECT_EQ(*version, 1);
}

TYPED_TEST_P(StoreSuite, AMigrationStepRunsAfterItsSqlInItsTransaction) {
  Database& db = *this->db_;
  auto fill = [](Session& s) { return s.exec("INSERT INTO filled (x) VALUES (7)").status(); };
  auto refuse = [](Session& s) -> Status {
    VIGIL_RETURN_IF_ERROR(s.exec("INSERT INTO refused (x) VALUES (7)").status());
    return failed_precondition("the data is not ready");
  };
  Migrator migrator(
      db, {{1, "filled", "CREATE TABLE filled (x INTEGER)", "DROP TABLE filled", fill},
           {2, "refused", "CREATE TABLE refused (x INTEGER)", "DROP TABLE refused", refuse}});
  auto ran = migrator.up();
  ASSERT_FALSE(ran.ok());
  EXPECT_EQ(ran.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ran.status().message(), "migration 2_refused failed: the data is not ready");
  EXPECT_EQ(this->count("filled"), 1);
  EXPECT_FALSE(this->table_exists("refused"));  // the step's error undid the SQL before it
  auto version = migrator.current_version();
  ASSERT_STORE_OK(version);
  EXPECT_EQ(*version, 1);
}

TYPED_TEST_P(StoreSuite, CheckNotNewerRejectsAFutureSchema) {
  Database& db = *this->db_;
  Migrator migrator(db);
  ASSERT_STORE_OK(migrator.up());
  ASSERT_STORE_OK(
      db.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
              {int64_t{999}, "from_the_future", "2030-01-01T00:00:00.000Z"}));
  const std::string expected = "database schema version 999 is newer than this binary knows (" +
                               std::to_string(migrator.latest_known_version()) + ")";
  Status newer = migrator.check_not_newer();
  EXPECT_EQ(newer.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(newer.message(), expected);
  EXPECT_EQ(migrator.up().status().code(), ErrorCode::kFailedPrecondition);
  auto states = migrator.status();
  ASSERT_STORE_OK(states);
  EXPECT_EQ(states->back().version, 999);
  EXPECT_EQ(states->back().name, "from_the_future");
  // Reverting a migration this binary does not know is refused, not guessed.
  EXPECT_EQ(migrator.down().status().code(), ErrorCode::kFailedPrecondition);
}

REGISTER_TYPED_TEST_SUITE_P(
    StoreSuite, PingAndDescribe, EveryValueTypeRoundTrips, PlaceholdersBindByNumber,
    DollarInsideLiteralIsNotAPlaceholder, ReturningGivesNewIds, UniqueViolationIsAlreadyExists,
    ForeignKeyViolationIsConflict, WriteRollsBackWhenTheCallbackFails, ReadSeesOnlyCommittedData,
    ReadKeepsOneSnapshot, ConcurrentWritersAllLand, ConcurrentReadersShareASmallPool,
    WritesInsideReadAreRejected, ExecReportsChangedRows, BadSqlIsAnErrorNotACrash,
    UnknownSchemeIsInvalidArgument, DataOutlivesTheDatabaseObject, EmbeddedMigrationsRoundTrip,
    AuditAtBecomesEpochMicrosAndBack, AuditRowsBecomeSegmentsAndBack,
    AuditColumnsBecomeArraysWhenReverted, EmailKeysAreFilledForExistingAccounts,
    EmailsThatBecomeOneStopTheEmailKeyMigration, MigratorStopsAtTargetAndRevertsNewestFirst,
    FailedMigrationLeavesNoTrace, AMigrationStepRunsAfterItsSqlInItsTransaction,
    CheckNotNewerRejectsAFutureSchema);

}  // namespace vigil::store::testing
