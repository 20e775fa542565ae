// A throwaway PostgreSQL server for tests: initdb into a fresh temporary directory, a postgres
// listening only on 127.0.0.1 (a free port) and a socket in that directory, fsync off.
//
// Needs the server binaries (initdb, postgres, pg_isready, createdb): $VIGIL_TEST_PG_BIN, else
// /usr/lib/postgresql/15/bin, else the newest /usr/lib/postgresql/*/bin. Run as root, the
// server runs as the `postgres` system user (initdb and postgres refuse root).
#pragma once

#include <gtest/gtest.h>

#include <sys/types.h>
#include <memory>
#include <string>
#include <string_view>

namespace vigil::testing {

inline constexpr std::string_view kPgMissingMessage =
    "PostgreSQL binaries not found — install with scripts/install-deps "
    "(or point VIGIL_TEST_PG_BIN at the folder holding initdb and postgres)";

// The folder holding the server binaries, or "" when there is none.
std::string find_pg_bin_dir();

// Prints kPgMissingMessage to stderr in a banner, once per process.
void print_pg_missing_banner();

class PgServer {
 public:
  // Starts a server with an empty database `vigil_test`; blocks until it accepts connections
  // (at most ~20 s). nullptr when it cannot; *error (optional) says why, with the log's tail.
  // Call from the thread that will outlive the server: the server dies with that thread.
  static std::unique_ptr<PgServer> start(std::string* error = nullptr);

  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;
  // Stops the server (fast shutdown, then SIGKILL after 10 s) and removes its directory.
  ~PgServer();

  // postgresql://postgres@127.0.0.1:PORT/vigil_test (trust authentication, no password).
  std::string url() const { return url("vigil_test"); }
  std::string url(std::string_view database) const;
  int port() const { return port_; }

  // Creates an empty database (name: [a-z0-9_]+). Thread-safe. false, and *error, on failure.
  // Takes ~0.25 s; for many small tests a schema each is faster: CREATE SCHEMA s, then
  // connect with url() + "?options=-csearch_path%3Ds".
  bool create_database(std::string_view name, std::string* error = nullptr);

 private:
  PgServer(std::string bin_dir, std::string dir)
      : bin_dir_(std::move(bin_dir)), dir_(std::move(dir)) {}

  std::string bin_dir_;
  std::string dir_;  // the temporary directory: data/, the socket, logs
  int port_ = 0;
  pid_t pid_ = -1;
};

// The one server of this test process: started on the first call, stopped at exit. nullptr
// when it cannot start (the reason in *error, the same on every call).
PgServer* shared_pg_server(std::string* error = nullptr);

// A new database on `pg` named <prefix>_<pid>_<n>; its URL, or "" with *error set.
std::string fresh_database_url(PgServer& pg, const std::string& prefix, std::string* error);

}  // namespace vigil::testing

// In a test body or a fixture's SetUp(): declares `PgServer* var`, the shared server. Skips the
// test, loudly, when the PostgreSQL binaries are absent; fails it when they are present but the
// server does not start.
#define VIGIL_PG_SERVER_OR_SKIP(var)                                                        \
  ::vigil::testing::PgServer* var = nullptr;                                                \
  do {                                                                                      \
    if (::vigil::testing::find_pg_bin_dir().empty()) {                                      \
      ::vigil::testing::print_pg_missing_banner();                                          \
      GTEST_SKIP() << ::vigil::testing::kPgMissingMessage;                                  \
    }                                                                                       \
    std::string vigil_pg_error_;                                                            \
    var = ::vigil::testing::shared_pg_server(&vigil_pg_error_);                             \
    ASSERT_NE(var, nullptr) << "PostgreSQL test server did not start: " << vigil_pg_error_; \
  } while (0)
