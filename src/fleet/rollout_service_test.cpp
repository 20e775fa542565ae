// The RolloutService suite on a temporary SQLite file.
#include "fleet/rollout_suite.h"
#include "support/backends.h"

namespace vigil::fleet::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, RolloutSuite,
                               ::testing::Types<vigil::testing::SqliteFileBackend>);
}  // namespace vigil::fleet::testing
