// The AccountService suite on the harness PostgreSQL (tests/support/pg_server.h): there the
// last-admin rule rests on row locks, not on serialised writers. Skips, loudly, without
// PostgreSQL binaries.
#include <atomic>

#include "auth/account_suite.h"
#include "support/pg_server.h"

namespace vigil::auth::testing {
namespace {

// Every test gets an empty schema of its own in the server's vigil_test database, made the
// search_path through the URL.
struct PostgresBackend {
  void set_up() {
    VIGIL_PG_SERVER_OR_SKIP(server);
    static std::atomic<int> next{0};
    const std::string schema = "accounts_" + std::to_string(++next);
    store::DatabaseOptions admin_options;
    admin_options.url = server->url();
    admin_options.pool_size = 1;
    auto admin = store::open_database(admin_options);
    ASSERT_TRUE(admin.ok()) << admin.status().to_string();
    ASSERT_ACCOUNT_OK((*admin)->exec("CREATE SCHEMA " + schema));
    url_ = server->url() + "?options=-csearch_path%3D" + schema;
  }
  void tear_down() {}
  std::string url() const { return url_; }

  std::string url_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, AccountSuite, ::testing::Types<PostgresBackend>);

}  // namespace vigil::auth::testing
