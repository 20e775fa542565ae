// /api/v1/baselines and /api/v1/sensors/{name}/baseline (API.md "Telemetry and anomaly
// detection"; docs/http/telemetry.md "Baselines"): the baseline library (list, upload values or
// cut a sensor's history, read with values, delete) and a sensor's baseline (the current one and
// its history; set one from the library, select the best now, augment now). The rules live in
// telemetry::BaselineService.
#pragma once

#include "core/blocking_pool.h"
#include "net/router.h"
#include "telemetry/baseline_service.h"

namespace vigil::api {

struct BaselineDeps {
  telemetry::BaselineService* baselines = nullptr;
  BlockingPool* blocking = nullptr;
};

void add_baseline_routes(net::Router& router, BaselineDeps deps);

}  // namespace vigil::api
