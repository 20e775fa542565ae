// The TaskService suite on the harness PostgreSQL (tests/support/pg_server.h).
#include "support/backends.h"
#include "tasks/task_suite.h"

namespace vigil::tasks::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, TaskSuite,
                               ::testing::Types<vigil::testing::PostgresSchemaBackend>);
}  // namespace vigil::tasks::testing
