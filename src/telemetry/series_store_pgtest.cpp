// The sensors and series suite on the harness PostgreSQL (tests/support/pg_server.h).
#include "support/backends.h"
#include "telemetry/series_suite.h"

namespace vigil::telemetry::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, SeriesSuite,
                               ::testing::Types<vigil::testing::PostgresSchemaBackend>);
}  // namespace vigil::telemetry::testing
