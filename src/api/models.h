// /api/v1/models…: upload versions, list, read, move aliases, delete versions. API.md "Model
// registry". Rules live in registry::ModelService; artifacts are served by api/artifacts.h.
#pragma once

#include "core/blocking_pool.h"

#include "net/router.h"
#include "registry/model_service.h"

namespace vigil::api {

struct ModelDeps {
  registry::ModelService* models = nullptr;
  BlockingPool* blocking = nullptr;  // store and the load check
  int64_t max_upload_bytes = 256 << 20;
};

void add_model_routes(net::Router& router, ModelDeps deps);

}  // namespace vigil::api
