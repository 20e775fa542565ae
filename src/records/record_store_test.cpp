// The records suite on SQLite (a temporary file).
#include "records/record_suite.h"

namespace vigil::records::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, RecordSuite,
                               ::testing::Types<vigil::testing::SqliteFileBackend>);
}  // namespace vigil::records::testing
