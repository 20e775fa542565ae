// The KServe v2 inference protocol: /v2/health/{live,ready}, /v2/models/{name}[/versions/
// {version}] (metadata), …/ready and …/infer (dynamic batching; parameters.explain adds
// contributions). API.md "Inference". The request parser is api/kserve.h.
#pragma once

#include "core/blocking_pool.h"

#include <functional>

#include "api/credits.h"
#include "net/router.h"
#include "registry/model_registry.h"
#include "serving/model_server.h"

namespace vigil::api {

struct V2InferenceDeps {
  serving::ModelServer* server = nullptr;
  registry::ModelRegistry* registry = nullptr;
  BlockingPool* blocking = nullptr;
  CreditDeps credits;  // priced models (metadata price_per_row) charge the caller per row
  size_t max_rows = 10000;
  int64_t max_body_bytes = 64 << 20;
  std::function<bool()> ready;  // /v2/health/ready; blocking (it asks the store)
};

void add_v2_inference_routes(net::Router& router, V2InferenceDeps deps);

}  // namespace vigil::api
