// The store suite on the harness PostgreSQL (tests/support/pg_server.h), plus what only
// PostgreSQL has (type conversions, reconnects). Skips, loudly, without PostgreSQL binaries.
#include <atomic>
#include <cmath>
#include <limits>

#include "store/store_suite.h"
#include "support/pg_server.h"

namespace vigil::store::testing {
namespace {

// Every test gets an empty schema of its own in the server's vigil_test database, made the
// search_path through the URL (much faster than a database per test).
struct PostgresBackend {
  void set_up() {
    VIGIL_PG_SERVER_OR_SKIP(server);
    static std::atomic<int> next{0};
    const std::string schema = "test_" + std::to_string(++next);
    DatabaseOptions admin_options;
    admin_options.url = server->url();
    admin_options.pool_size = 1;
    auto admin = open_database(admin_options);
    ASSERT_TRUE(admin.ok()) << admin.status().to_string();
    ASSERT_STORE_OK((*admin)->exec("CREATE SCHEMA " + schema));
    url_ = server->url() + "?options=-csearch_path%3D" + schema;
  }
  void tear_down() {}
  std::string url() const { return url_; }

  std::string url_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, StoreSuite, ::testing::Types<PostgresBackend>);

namespace {

class PostgresDatabase : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.set_up();
    if (IsSkipped() || HasFatalFailure()) return;
    db_ = open("postgresql://", 2);
    ASSERT_NE(db_, nullptr);
  }

  // Opens the test database under `scheme` (postgresql:// or postgres://).
  std::unique_ptr<Database> open(const std::string& scheme, int pool_size) {
    DatabaseOptions options;
    options.url = scheme + backend_.url().substr(backend_.url().find("://") + 3);
    options.pool_size = pool_size;
    auto db = open_database(options);
    EXPECT_TRUE(db.ok()) << db.status().to_string();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  PostgresBackend backend_;
  std::unique_ptr<Database> db_;
};

TEST_F(PostgresDatabase, DialectAndDescription) {
  EXPECT_EQ(db_->dialect(), Dialect::kPostgres);
  EXPECT_EQ(db_->describe().rfind("postgresql://postgres@127.0.0.1:", 0), 0u) << db_->describe();
  auto short_scheme = open("postgres://", 1);
  ASSERT_NE(short_scheme, nullptr);
  EXPECT_STORE_OK(short_scheme->ping());
}

TEST_F(PostgresDatabase, ColumnTypesConvert) {
  auto rows = db_->query(
      "SELECT true AS yes, false AS no, 7::int2 AS small, 8::int4 AS mid, 9::int8 AS big, "
      "10::oid AS an_oid, 1.5::float4 AS f4, 2.25::float8 AS f8, 12345.678::numeric AS num, "
      "'\\x00ff'::bytea AS bytes, 'abc'::varchar AS chars, '2024-01-02'::date AS day, "
      "NULL::int8 AS nothing, 'NaN'::float8 AS nan, '-Infinity'::float8 AS minus_inf, "
      "SUM(x) AS total FROM (VALUES (1::int8), (2::int8)) AS v (x)");
  ASSERT_STORE_OK(rows);
  const Rows& r = *rows;
  EXPECT_EQ(r.at(0, 0), Value{int64_t{1}});
  EXPECT_EQ(r.at(0, 1), Value{int64_t{0}});
  EXPECT_EQ(r.at(0, 2), Value{int64_t{7}});
  EXPECT_EQ(r.at(0, 3), Value{int64_t{8}});
  EXPECT_EQ(r.at(0, 4), Value{int64_t{9}});
  EXPECT_EQ(r.at(0, 5), Value{int64_t{10}});
  EXPECT_EQ(r.at(0, 6), Value{1.5});
  EXPECT_EQ(r.at(0, 7), Value{2.25});
  EXPECT_EQ(r.at(0, 8), Value{12345.678});
  EXPECT_EQ(r.at(0, 9), Value{Blob{std::string("\0\xff", 2)}});
  EXPECT_EQ(r.at(0, 10), Value{std::string("abc")});
  EXPECT_EQ(r.at(0, 11), Value{std::string("2024-01-02")});
  EXPECT_TRUE(r.is_null(0, 12));
  EXPECT_TRUE(std::isnan(r.get_double(0, 13)));
  EXPECT_EQ(r.get_double(0, 14), -std::numeric_limits<double>::infinity());
  // SUM(int8) is a numeric on PostgreSQL: get_int still reads it.
  EXPECT_EQ(r.get_int(0, 15), 3);
}

TEST_F(PostgresDatabase, TextWithNulIsRejectedNotTruncated) {
  ASSERT_STORE_OK(db_->exec("CREATE TABLE t (s TEXT)"));
  auto nul = db_->exec("INSERT INTO t (s) VALUES ($1)", {std::string("a\0b", 3)});
  EXPECT_EQ(nul.status().code(), ErrorCode::kInvalidArgument) << nul.status().to_string();
  auto rows = db_->query("SELECT COUNT(*) FROM t");
  ASSERT_STORE_OK(rows);
  EXPECT_EQ(rows->get_int(0, 0), 0);
}

TEST_F(PostgresDatabase, EscapeFormatByteaDecodes) {
  ASSERT_STORE_OK(db_->write([](Session& s) -> Status {
    VIGIL_RETURN_IF_ERROR(s.exec_script("SET LOCAL bytea_output = 'escape'"));
    auto rows = s.query("SELECT $1::bytea", {{Value{Blob{std::string("a\\\0\xff\n", 5)}}}});
    if (!rows.ok()) return rows.status();
    EXPECT_EQ(rows->get_blob(0, 0), std::string("a\\\0\xff\n", 5));
    return {};
  }));
}

TEST_F(PostgresDatabase, ABrokenConnectionIsReplaced) {
  auto victim = open("postgresql://", 1);  // one connection, so it is the one reused
  ASSERT_NE(victim, nullptr);
  auto pid = victim->query("SELECT pg_backend_pid()");
  ASSERT_STORE_OK(pid);
  auto killed = db_->query("SELECT pg_terminate_backend($1::int4)", {pid->get_int(0, 0)});
  ASSERT_STORE_OK(killed);
  // The next transaction notices the dead connection at BEGIN and reconnects.
  auto after = victim->query("SELECT pg_backend_pid()");
  ASSERT_STORE_OK(after);
  EXPECT_NE(after->get_int(0, 0), pid->get_int(0, 0));
  EXPECT_STORE_OK(victim->ping());
}

TEST_F(PostgresDatabase, WritersRunConcurrently) {
  // Two write transactions open at once: the second does not wait for the first.
  ASSERT_STORE_OK(db_->exec("CREATE TABLE t (x INTEGER)"));
  Latch first_open;
  Latch second_done;
  std::thread first([&] {
    EXPECT_STORE_OK(db_->write([&](Session& s) -> Status {
      VIGIL_RETURN_IF_ERROR(s.exec("INSERT INTO t (x) VALUES (1)").status());
      first_open.open();
      second_done.wait();
      return {};
    }));
  });
  first_open.wait();
  EXPECT_STORE_OK(db_->exec("INSERT INTO t (x) VALUES (2)"));
  second_done.open();
  first.join();
  auto rows = db_->query("SELECT COUNT(*) FROM t");
  ASSERT_STORE_OK(rows);
  EXPECT_EQ(rows->get_int(0, 0), 2);
}

}  // namespace
}  // namespace vigil::store::testing
