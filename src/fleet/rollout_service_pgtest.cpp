// The RolloutService suite on the harness PostgreSQL (tests/support/pg_server.h).
#include "fleet/rollout_suite.h"
#include "support/backends.h"

namespace vigil::fleet::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, RolloutSuite,
                               ::testing::Types<vigil::testing::PostgresSchemaBackend>);
}  // namespace vigil::fleet::testing
