// The Ledger suite on the harness PostgreSQL (tests/support/pg_server.h).
#include "credits/ledger_suite.h"
#include "support/backends.h"

namespace vigil::credits::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, LedgerSuite,
                               ::testing::Types<vigil::testing::PostgresSchemaBackend>);
}  // namespace vigil::credits::testing
