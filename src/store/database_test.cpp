// Rows accessors, URL dispatch and the helpers of database.cpp; no server needed.
#include "store/database.h"

#include <gtest/gtest.h>

#include <limits>

#include "store/embedded_sql.h"
#include "store/migrations.h"
#include "store/sql_util.h"

namespace vigil::store {
namespace {

Rows sample() {
  return Rows({"n", "d", "whole", "s", "b", "null"},
              {{int64_t{42}, 2.5, 7.0, std::string("text"), Blob{std::string("\0x", 2)},
                std::monostate{}}});
}

TEST(Rows, TypedGettersReturnTheValueOrTheFallback) {
  const Rows rows = sample();
  EXPECT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows.empty());
  EXPECT_EQ(rows.columns().size(), 6u);
  EXPECT_EQ(rows.get_int(0, 0), 42);
  EXPECT_EQ(rows.get_int(0, 1, -1), -1);  // 2.5 is not whole
  EXPECT_EQ(rows.get_int(0, 2), 7);       // 7.0 is
  EXPECT_EQ(rows.get_int(0, 3, -1), -1);
  EXPECT_EQ(rows.get_int(0, 5, -2), -2);
  EXPECT_EQ(rows.get_double(0, 1), 2.5);
  EXPECT_EQ(rows.get_double(0, 0), 42.0);
  EXPECT_EQ(rows.get_double(0, 3, -1.0), -1.0);
  EXPECT_EQ(rows.get_text(0, 3), "text");
  EXPECT_EQ(rows.get_text(0, 4, "fallback"), "fallback");
  EXPECT_EQ(rows.get_text(0, 5, "null"), "null");
  EXPECT_EQ(rows.get_blob(0, 4), std::string("\0x", 2));
  EXPECT_EQ(rows.get_blob(0, 3), "");
  EXPECT_TRUE(rows.is_null(0, 5));
  EXPECT_FALSE(rows.is_null(0, 0));
}

TEST(Rows, HugeDoublesDoNotOverflowGetInt) {
  const Rows rows({"x", "y"}, {{1e300, -9223372036854775808.0}});
  EXPECT_EQ(rows.get_int(0, 0, -1), -1);
  EXPECT_EQ(rows.get_int(0, 1), std::numeric_limits<int64_t>::min());
}

TEST(OpenDatabase, UnknownOrMissingSchemeIsInvalidArgument) {
  DatabaseOptions options;
  options.url = "mysql://user:secret@host/db";
  auto db = open_database(options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(db.status().message().find("'mysql'"), std::string::npos);
  EXPECT_EQ(db.status().message().find("secret"), std::string::npos);

  options.url = "var/vigil.db";
  EXPECT_EQ(open_database(options).status().code(), ErrorCode::kInvalidArgument);
  options.url = "";
  EXPECT_EQ(open_database(options).status().code(), ErrorCode::kInvalidArgument);
  options.url = "sqlite::memory:";
  options.pool_size = 0;
  EXPECT_EQ(open_database(options).status().code(), ErrorCode::kInvalidArgument);
}

TEST(OpenDatabase, UnreachablePostgresIsUnavailableWithoutThePassword) {
  DatabaseOptions options;
  // Port 1 on loopback: nothing listens there, the connect is refused at once.
  options.url = "postgresql://vigil:hunter2secret@127.0.0.1:1/vigil?connect_timeout=2";
  auto db = open_database(options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), ErrorCode::kUnavailable) << db.status().to_string();
  EXPECT_EQ(db.status().message().find("hunter2secret"), std::string::npos)
      << db.status().message();
  EXPECT_NE(db.status().message().find("postgresql://vigil@127.0.0.1:1/vigil"), std::string::npos)
      << db.status().message();

  options.url = "postgres://vigil:hunter2secret@127.0.0.1:1/vigil?connect_timeout=2";
  EXPECT_EQ(open_database(options).status().code(), ErrorCode::kUnavailable);
  options.url = "postgresql://vigil:hunter2secret@127.0.0.1:1/vigil?no_such_option=1";
  auto malformed = open_database(options);
  EXPECT_EQ(malformed.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(malformed.status().message().find("hunter2secret"), std::string::npos);
}

TEST(SqlUtil, ReadOnlyStatementsAreRecognised) {
  using detail::is_read_only_statement;
  EXPECT_TRUE(is_read_only_statement("SELECT 1"));
  EXPECT_TRUE(is_read_only_statement("  select 1"));
  EXPECT_TRUE(is_read_only_statement("-- note\n/* c */ (SELECT 1) UNION (SELECT 2)"));
  EXPECT_TRUE(is_read_only_statement("WITH x AS (SELECT 1) SELECT * FROM x"));
  EXPECT_TRUE(is_read_only_statement("VALUES (1)"));
  EXPECT_FALSE(is_read_only_statement("INSERT INTO t VALUES (1) RETURNING id"));
  EXPECT_FALSE(is_read_only_statement("UPDATE t SET x = 1"));
  EXPECT_FALSE(is_read_only_statement("SELECTED"));
  EXPECT_FALSE(is_read_only_statement(""));
  EXPECT_FALSE(is_read_only_statement("-- only a comment"));
}

TEST(SqlUtil, ExcerptCollapsesWhitespaceAndTruncates) {
  EXPECT_EQ(detail::sql_excerpt("  SELECT\n\t*   FROM t  "), "SELECT * FROM t");
  const std::string long_sql(200, 'x');
  EXPECT_EQ(detail::sql_excerpt(long_sql), std::string(80, 'x') + "...");
}

TEST(EmbeddedMigrations, BothDialectsKnowTheSameVersions) {
  const auto& sqlite = embedded_migrations(Dialect::kSqlite);
  const auto& postgres = embedded_migrations(Dialect::kPostgres);
  ASSERT_FALSE(sqlite.empty());
  ASSERT_EQ(sqlite.size(), postgres.size());
  for (size_t i = 0; i < sqlite.size(); ++i) {
    EXPECT_EQ(sqlite[i].version, postgres[i].version);
    EXPECT_EQ(sqlite[i].name, postgres[i].name);
    EXPECT_FALSE(sqlite[i].up_sql.empty()) << sqlite[i].name;
    EXPECT_FALSE(sqlite[i].down_sql.empty()) << sqlite[i].name;
    EXPECT_FALSE(postgres[i].up_sql.empty()) << postgres[i].name;
    EXPECT_FALSE(postgres[i].down_sql.empty()) << postgres[i].name;
    if (i > 0) {
      EXPECT_LT(sqlite[i - 1].version, sqlite[i].version);
    }
  }
  EXPECT_EQ(sqlite[0].version, 1);
  EXPECT_EQ(sqlite[0].name, "users");
  EXPECT_NE(sqlite[0].up_sql.find("AUTOINCREMENT"), std::string::npos);
  EXPECT_NE(postgres[0].up_sql.find("BIGSERIAL"), std::string::npos);
}

TEST(EmbeddedMigrations, FilesAreSortedAndNamedByDialect) {
  const auto files = detail::embedded_sql_files();
  ASSERT_GE(files.size(), 4u);
  for (const auto& file : files) {
    EXPECT_TRUE(file.dialect == "sqlite" || file.dialect == "postgres") << file.dialect;
    EXPECT_TRUE(file.file.ends_with(".up.sql") || file.file.ends_with(".down.sql")) << file.file;
  }
}

}  // namespace
}  // namespace vigil::store
