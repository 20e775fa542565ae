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

// An upload's parts as POST …/versions takes them — application/octet-stream (metadata in the
// Vigil-Metadata header) or multipart/form-data (parts file, metadata, kind), ?kind= — stored
// under `name` by the caller. Answers the exchange (400, 415, 422) and returns nullopt when the
// body is not an upload. The bytes are a view into the request body.
std::optional<registry::Upload> read_upload(net::Exchange& ex, std::string name);

}  // namespace vigil::api
