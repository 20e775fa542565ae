// S9 (bench/README.md): asynchronous task round trips against Vigil. `concurrency` loops, each
// on a kept-alive connection: POST /api/v1/tasks with the given body → 202 with the id → GET
// /api/v1/tasks/{id}?wait=10 → 200 once it has ended. A round trip is timed from the POST's
// send to the GET's answer; one whose task did not end done counts as an error.
//
// `ceiling`: the same loops make two GET /api/v1/auth/me instead (authenticated, audited,
// answered from memory): the HTTP work of a round trip without the task's, measured in the same
// run as the ceiling the task round trips are held against.
#pragma once

#include <string>

#include "common.h"

namespace fleet_load {

struct TasksOptions {
  Target target;
  std::string token;
  std::string body;  // the submit's JSON
  int concurrency = 8;
  double warmup_s = 2;
  double measure_s = 10;
  bool ceiling = false;
};

// Prints one JSON line: {"scenario":"S9","tasks","seconds","rate","p50_ms","p99_ms","errors",
// "first_error"}. Returns 0, or 1 when no round trip completed.
int run_tasks(const TasksOptions& o);

}  // namespace fleet_load
