// Operations endpoints: /healthz, /readyz, /metrics, /openapi.json, /docs.
#pragma once

#include "core/blocking_pool.h"

#include <functional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"
#include "net/router.h"

namespace vigil::api {

struct ReadinessCheck {
  std::string name;               // "database", "migrations", "queue"
  std::function<Status()> check;  // ok when ready; may block (it runs on the blocking pool)
};

struct OpsDeps {
  MetricsRegistry* metrics = nullptr;
  BlockingPool* blocking = nullptr;  // the readiness checks run here
  std::vector<ReadinessCheck> readiness;
  std::string version;
};

void add_ops_routes(net::Router& router, OpsDeps deps);

// Adds /openapi.json (built from `router` when first requested, so it covers every route added
// before the server starts) and /docs.
void add_docs_routes(net::Router& router, std::string version);

}  // namespace vigil::api
