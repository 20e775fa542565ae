// Backends for behaviour suites that run on every Database implementation (as
// store/store_suite.h describes: set_up() gives a fresh, empty database or skips, tear_down(),
// url()). A suite's _test.cpp instantiates it with SqliteFileBackend, its _pgtest.cpp with
// PostgresSchemaBackend.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include "store/database.h"
#include "store/migrations.h"
#include "support/pg_server.h"
#include "support/temp_db.h"

namespace vigil::testing {

// A SQLite file in a temp dir of its own.
struct SqliteFileBackend {
  void set_up() {
    dir = make_temp_dir("vigil-suite-");
    ASSERT_FALSE(dir.empty()) << "mkdtemp failed";
  }
  void tear_down() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
  std::string url() const { return "sqlite://" + (dir / "suite.db").string(); }

  std::filesystem::path dir;
};

// An empty schema of its own in the harness PostgreSQL's vigil_test database, made the
// search_path through the URL; skips, loudly, without PostgreSQL binaries.
struct PostgresSchemaBackend {
  void set_up() {
    VIGIL_PG_SERVER_OR_SKIP(server);
    static std::atomic<int> next{0};
    const std::string schema = "suite_" + std::to_string(::getpid()) + "_" + std::to_string(++next);
    store::DatabaseOptions admin_options;
    admin_options.url = server->url();
    admin_options.pool_size = 1;
    auto admin = store::open_database(admin_options);
    ASSERT_TRUE(admin.ok()) << admin.status().to_string();
    auto made = (*admin)->exec("CREATE SCHEMA " + schema);
    ASSERT_TRUE(made.ok()) << made.status().to_string();
    url_ = server->url() + "?options=-csearch_path%3D" + schema;
  }
  void tear_down() {}
  std::string url() const { return url_; }

  std::string url_;
};

// Opens `url` with `pool_size` connections into `out` and applies every migration; a fatal
// failure otherwise (call it in SetUp, then check HasFatalFailure()).
inline void open_migrated(const std::string& url, int pool_size,
                          std::unique_ptr<store::Database>& out) {
  store::DatabaseOptions options;
  options.url = url;
  options.pool_size = pool_size;
  auto db = store::open_database(options);
  ASSERT_TRUE(db.ok()) << db.status().to_string();
  out = std::move(*db);
  auto ran = store::Migrator(*out).up();
  ASSERT_TRUE(ran.ok()) << ran.status().to_string();
}

}  // namespace vigil::testing
