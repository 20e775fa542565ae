// The TaskService suite on the harness PostgreSQL (tests/support/pg_server.h).
#include "support/backends.h"
#include "tasks/feed_suite.h"
#include "tasks/task_suite.h"

namespace vigil::tasks::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, TaskSuite,
                               ::testing::Types<vigil::testing::PostgresSchemaBackend>);
using PostgresQueues = ::testing::Types<On<vigil::testing::PostgresSchemaBackend, StoreQueue>,
                                        On<vigil::testing::PostgresSchemaBackend, RabbitQueue>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, FeedSuite, PostgresQueues);
}  // namespace vigil::tasks::testing
