// The records suite on the harness PostgreSQL (tests/support/pg_server.h).
#include "records/record_suite.h"

namespace vigil::records::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, RecordSuite,
                               ::testing::Types<vigil::testing::PostgresSchemaBackend>);
}  // namespace vigil::records::testing
