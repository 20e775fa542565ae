// The AccountService suite on the harness PostgreSQL (tests/support/pg_server.h): there the
// last-admin rule rests on row locks, not on serialised writers. Skips, loudly, without
// PostgreSQL binaries.
#include "auth/account_suite.h"
#include "support/backends.h"

namespace vigil::auth::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, AccountSuite,
                               ::testing::Types<vigil::testing::PostgresSchemaBackend>);
}  // namespace vigil::auth::testing
