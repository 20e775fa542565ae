// The AccountService suite on a temporary SQLite file.
#include "auth/account_suite.h"
#include "support/backends.h"

namespace vigil::auth::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, AccountSuite,
                               ::testing::Types<vigil::testing::SqliteFileBackend>);
}  // namespace vigil::auth::testing
