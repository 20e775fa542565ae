// GET /api/v1/models/{name}/versions/{v}/artifact: a version's file, with its sha256 as a strong
// ETag, If-None-Match and single byte ranges (net/file_response.h). API.md "Model registry".
#pragma once

#include "core/blocking_pool.h"

#include "net/router.h"
#include "registry/model_registry.h"

namespace vigil::api {

struct ArtifactDeps {
  registry::ModelRegistry* registry = nullptr;
  BlockingPool* blocking = nullptr;  // the store, and fetching the bytes into the cache
};

void add_artifact_routes(net::Router& router, ArtifactDeps deps);

}  // namespace vigil::api
