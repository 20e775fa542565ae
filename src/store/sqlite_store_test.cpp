// The store suite on a temporary SQLite file, plus what only SQLite has (memory databases,
// file URLs, pragmas).
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "core/io_thread.h"
#include "store/store_suite.h"

namespace vigil::store::testing {
namespace {

namespace fs = std::filesystem;

// A fresh temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "vigil-store-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct SqliteFileBackend {
  void set_up() {
    dir = std::make_unique<TempDir>();
    ASSERT_FALSE(dir->path().empty()) << "mkdtemp failed";
  }
  void tear_down() { dir.reset(); }
  std::string url() const { return "sqlite://" + dir->path() + "/store.db"; }

  std::unique_ptr<TempDir> dir;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, StoreSuite, ::testing::Types<SqliteFileBackend>);

namespace {

std::unique_ptr<Database> open_or_die(const std::string& url, int pool_size = 2) {
  DatabaseOptions options;
  options.url = url;
  options.pool_size = pool_size;
  auto db = open_database(options);
  EXPECT_TRUE(db.ok()) << db.status().to_string();
  return db.ok() ? std::move(db).value() : nullptr;
}

TEST(SqliteDatabase, MemoryDatabaseIsSharedByWriterAndReaders) {
  auto db = open_or_die("sqlite::memory:", 3);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->describe(), "sqlite::memory:");
  EXPECT_EQ(db->dialect(), Dialect::kSqlite);
  ASSERT_STORE_OK(db->exec("CREATE TABLE t (x INTEGER)"));
  ASSERT_STORE_OK(db->exec("INSERT INTO t (x) VALUES ($1), ($2)", {int64_t{1}, int64_t{2}}));
  for (int i = 0; i < 6; ++i) {  // every reader of the pool sees it
    auto rows = db->query("SELECT SUM(x) FROM t");
    ASSERT_STORE_OK(rows);
    EXPECT_EQ(rows->get_int(0, 0), 3);
  }
  Migrator migrator(*db);
  ASSERT_STORE_OK(migrator.up());
  EXPECT_STORE_OK(migrator.check_current());
}

// PostgreSQL holds UTF-8 text only; SQLite keeps any bytes, and the CLI once accepted them.
TEST(SqliteDatabase, AnEmailThatIsNotUtf8StopsTheEmailKeyMigration) {
  auto db = open_or_die("sqlite::memory:");
  ASSERT_NE(db, nullptr);
  Migrator migrator(*db);
  ASSERT_STORE_OK(migrator.up(7));
  ASSERT_STORE_OK(db->exec(kInsertUserBefore8, {"\xff@example.com"}));
  auto ran = migrator.up();
  ASSERT_FALSE(ran.ok());
  EXPECT_EQ(ran.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ran.status().message(),
            "migration 8_email_key failed: the email of account 1 is not well-formed UTF-8; "
            "delete that account, then migrate");
  ASSERT_STORE_OK(db->exec("DELETE FROM users"));
  EXPECT_STORE_OK(migrator.up());
}

TEST(SqliteDatabase, MemoryDatabasesAreSeparate) {
  auto a = open_or_die("sqlite::memory:");
  auto b = open_or_die("sqlite::memory:");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_STORE_OK(a->exec("CREATE TABLE only_in_a (x INTEGER)"));
  EXPECT_STORE_OK(a->query("SELECT * FROM only_in_a"));
  EXPECT_FALSE(b->query("SELECT * FROM only_in_a").ok());
}

TEST(SqliteDatabase, MemoryDatabaseWritersWaitForReaders) {
  auto db = open_or_die("sqlite::memory:");
  ASSERT_NE(db, nullptr);
  ASSERT_STORE_OK(db->exec("CREATE TABLE t (x INTEGER)"));
  Latch reading;
  Latch done_reading;
  std::thread reader([&] {
    EXPECT_STORE_OK(db->read([&](Session& s) -> Status {
      auto rows = s.query("SELECT COUNT(*) FROM t");
      reading.open();
      done_reading.wait();
      return rows.status();
    }));
  });
  reading.wait();
  std::thread writer([&] { EXPECT_STORE_OK(db->exec("INSERT INTO t (x) VALUES (1)")); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  done_reading.open();
  reader.join();
  writer.join();
  auto rows = db->query("SELECT COUNT(*) FROM t");
  ASSERT_STORE_OK(rows);
  EXPECT_EQ(rows->get_int(0, 0), 1);
}

TEST(SqliteDatabase, FileUsesWalAndForeignKeys) {
  TempDir dir;
  auto db = open_or_die("sqlite://" + dir.path() + "/wal.db");
  ASSERT_NE(db, nullptr);
  auto mode = db->query("PRAGMA journal_mode");  // PRAGMA is not a read keyword: the writer
  ASSERT_STORE_OK(mode);
  EXPECT_EQ(mode->get_text(0, 0), "wal");
  ASSERT_STORE_OK(db->read([](Session& s) -> Status {
    auto fk = s.query("PRAGMA foreign_keys");
    if (!fk.ok()) return fk.status();
    EXPECT_EQ(fk->get_int(0, 0), 1) << "reader connections enforce foreign keys too";
    return {};
  }));
  EXPECT_EQ(db->describe(), "sqlite:" + dir.path() + "/wal.db");
}

// Commits never checkpoint (a thread of the database does, past 1 000 WAL pages): the data
// reaches the database file while the WAL stays bounded.
TEST(SqliteDatabase, TheWalIsCheckpointedInTheBackground) {
  TempDir dir;
  const std::string file = dir.path() + "/ckpt.db";
  auto db = open_or_die("sqlite://" + file);
  ASSERT_NE(db, nullptr);
  ASSERT_STORE_OK(db->exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)"));
  const auto db_size = [&] { return fs::file_size(file); };
  const uintmax_t before = db_size();
  const std::string kb(4000, 'x');
  for (int i = 0; i < 3000; ++i) {  // about 3 000 WAL pages, one commit each
    std::vector<Value> p{Blob{kb}};
    ASSERT_STORE_OK(db->exec("INSERT INTO blobs (b) VALUES ($1)", p));
  }
  for (int i = 0; i < 500 && db_size() < before + 4'000'000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(db_size(), before + 4'000'000) << "pages were copied into the database file";
  EXPECT_LT(fs::file_size(file + "-wal"), uintmax_t{17'000} * 4'200) << "the WAL stays bounded";
  auto n = db->query("SELECT COUNT(*) FROM blobs");
  ASSERT_STORE_OK(n);
  EXPECT_EQ(n->get_int(0, 0), 3000);
}

TEST(SqliteDatabase, UrlFormsAndParentDirectories) {
  TempDir dir;
  // sqlite:///abs/path creates missing parents.
  auto absolute = open_or_die("sqlite://" + dir.path() + "/a/b/c.db");
  ASSERT_NE(absolute, nullptr);
  EXPECT_TRUE(fs::exists(dir.path() + "/a/b/c.db"));
  // sqlite://relative/path is relative to the working directory.
  const fs::path relative = fs::relative(dir.path(), fs::current_path()) / "rel" / "r.db";
  ASSERT_TRUE(relative.is_relative());
  auto rel = open_or_die("sqlite://" + relative.string());
  ASSERT_NE(rel, nullptr);
  EXPECT_TRUE(fs::exists(dir.path() + "/rel/r.db"));
  // sqlite:PATH, the form describe() prints, opens the same file.
  ASSERT_STORE_OK(rel->exec("CREATE TABLE t (x INTEGER)"));
  auto same = open_or_die(rel->describe());
  ASSERT_NE(same, nullptr);
  EXPECT_STORE_OK(same->query("SELECT * FROM t"));

  DatabaseOptions empty;
  empty.url = "sqlite://";
  EXPECT_EQ(open_database(empty).status().code(), ErrorCode::kInvalidArgument);
}

TEST(SqliteDatabase, UnopenableFileIsUnavailable) {
  TempDir dir;
  const std::string not_a_db = dir.path() + "/garbage.db";
  {
    std::FILE* f = std::fopen(not_a_db.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not an SQLite database, not even close to one, really", f);
    std::fclose(f);
  }
  DatabaseOptions options;
  options.url = "sqlite://" + not_a_db;
  auto db = open_database(options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), ErrorCode::kUnavailable) << db.status().to_string();
}

}  // namespace
}  // namespace vigil::store::testing

namespace vigil::store {
namespace {

// Debug and sanitizer builds (those the CI's ASan run uses) stop any store call made on an I/O
// thread, so a test that forgets to leave the I/O thread fails at the call.
TEST(StoreThreadCheck, AStoreCallOnAnIoThreadAborts) {
  if (!thread_checks_enabled()) GTEST_SKIP() << "release build: the check is compiled out";
  auto db = open_database({.url = "sqlite::memory:"});
  ASSERT_TRUE(db.ok());
  Database& d = **db;
  EXPECT_DEATH(
      {
        std::thread t([&] {
          mark_io_thread();
          (void)d.ping();
        });
        t.join();
      },
      "store::Database::ping called on an I/O thread");
  // Off the I/O threads the same call is fine.
  std::thread ok([&] { EXPECT_TRUE(d.ping().ok()); });
  ok.join();
}

}  // namespace
}  // namespace vigil::store
