// /api/v1/tasks: asynchronous predictions (API.md "Tasks and credits"). Submit checks the rows
// against the model's features and holds the cost (402 when short; Idempotency-Key honoured),
// then a worker runs it; the owner (or an admin) reads it (?wait=S: as soon as it ends, or after
// S seconds with what it is then), lists their history and cancels it while queued. Another user's
// task is 404 to them. The rules live in tasks::TaskService.
#pragma once

#include <functional>

#include "api/credits.h"
#include "core/blocking_pool.h"
#include "net/router.h"
#include "serving/model_server.h"
#include "tasks/task_service.h"
#include "tasks/task_watch.h"

namespace vigil::api {

struct TaskDeps {
  tasks::TaskService* tasks = nullptr;
  serving::ModelServer* server = nullptr;
  BlockingPool* blocking = nullptr;
  size_t max_rows = 10000;
  int64_t max_body_bytes = 64 << 20;
  // Called with each task a request submitted or cancelled (wake the workers, publish events).
  std::function<void(const tasks::Task&)> changed;
  // GET …/{id}?wait=S waits on it for the task to end (none: answers at once).
  tasks::TaskWatch* watch = nullptr;
};

void add_task_routes(net::Router& router, TaskDeps deps);

// A task as the API shows it (also the events' payload).
boost::json::object task_json(const tasks::Task& t, bool with_input = false);

}  // namespace vigil::api
