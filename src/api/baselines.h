// /api/v1/baselines and /api/v1/sensors/{name}/baseline (API.md "Telemetry and anomaly
// detection"; docs/http/telemetry.md "Baselines"): the baseline library (list, upload values or
// cut a sensor's history, read with values, delete) and a sensor's baseline (the current one and
// its history; set one from the library, select the best now, augment now). The rules live in
// telemetry::BaselineService.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

#include "api/json_body.h"
#include "core/blocking_pool.h"
#include "net/router.h"
#include "telemetry/baseline_service.h"

namespace vigil::api {

struct BaselineDeps {
  telemetry::BaselineService* baselines = nullptr;
  BlockingPool* blocking = nullptr;
};

void add_baseline_routes(net::Router& router, BaselineDeps deps);

// POST /api/v1/baselines' body: {"name","values":[…]} (null: a gap) or
// {"name","sensor","from","to","clean"?}. Pure (fuzzed: fuzz/json_body_fuzz.cpp); every error
// goes to `f`, naming its field.
struct BaselineRequest {
  std::string name;
  std::optional<std::vector<double>> values;  // else a cut of cut.sensor's history
  telemetry::CutRequest cut;
};
BaselineRequest read_baseline_request(const boost::json::object& body, Fields& f);

}  // namespace vigil::api
