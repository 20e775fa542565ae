// The TaskService suite on a temporary SQLite file.
#include "support/backends.h"
#include "tasks/feed_suite.h"
#include "tasks/task_suite.h"

namespace vigil::tasks::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, TaskSuite,
                               ::testing::Types<vigil::testing::SqliteFileBackend>);
using SqliteQueues = ::testing::Types<On<vigil::testing::SqliteFileBackend, StoreQueue>,
                                      On<vigil::testing::SqliteFileBackend, RabbitQueue>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, FeedSuite, SqliteQueues);
}  // namespace vigil::tasks::testing
