// The DeviceStore suite on the harness PostgreSQL (tests/support/pg_server.h).
#include "fleet/device_suite.h"
#include "support/backends.h"

namespace vigil::fleet::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, DeviceSuite,
                               ::testing::Types<vigil::testing::PostgresSchemaBackend>);
}  // namespace vigil::fleet::testing
