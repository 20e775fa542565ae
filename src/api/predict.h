// POST /api/v1/predict/{name}: predictions with named features, one row ({features:{…}}) or
// several ({rows:[{…}]}), with per-feature contributions on ?explain=true. API.md "Inference".
#pragma once

#include "net/router.h"
#include "serving/model_server.h"

namespace vigil::api {

struct PredictDeps {
  serving::ModelServer* server = nullptr;
  size_t max_rows = 10000;
  int64_t max_body_bytes = 64 << 20;
};

void add_predict_routes(net::Router& router, PredictDeps deps);

}  // namespace vigil::api
