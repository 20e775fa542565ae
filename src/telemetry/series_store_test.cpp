// The sensors and series suite on SQLite (a temporary file).
#include "support/backends.h"
#include "telemetry/series_suite.h"

namespace vigil::telemetry::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, SeriesSuite,
                               ::testing::Types<vigil::testing::SqliteFileBackend>);
}  // namespace vigil::telemetry::testing
