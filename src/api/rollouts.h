// /api/v1/rollouts: start, list and read rollouts, their devices, and pause/resume/abort them
// (API.md "Fleet"). The rules live in fleet::RolloutService and fleet::RolloutPlanner; the body
// is parsed by fleet::parse_rollout_spec.
#pragma once

#include "core/blocking_pool.h"
#include "fleet/rollout_service.h"
#include "net/router.h"

namespace vigil::api {

struct RolloutDeps {
  fleet::RolloutService* rollouts = nullptr;
  BlockingPool* blocking = nullptr;
};

void add_rollout_routes(net::Router& router, RolloutDeps deps);

}  // namespace vigil::api
