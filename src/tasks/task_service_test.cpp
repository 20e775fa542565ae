// The TaskService suite on a temporary SQLite file.
#include "support/backends.h"
#include "tasks/task_suite.h"

namespace vigil::tasks::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, TaskSuite,
                               ::testing::Types<vigil::testing::SqliteFileBackend>);
}  // namespace vigil::tasks::testing
