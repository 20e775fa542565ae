// Model registry endpoints: /api/v1/models… (upload versions, list, read, download artifacts
// with ETag and Range, move aliases, delete versions). API.md "Model registry".
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <string_view>

#include "core/status.h"
#include "net/router.h"
#include "registry/model_registry.h"
#include "runtime/runtime.h"

namespace vigil::api {

struct ModelDeps {
  registry::ModelRegistry* registry = nullptr;
  const runtime::RuntimeRegistry* runtimes = nullptr;
  boost::asio::thread_pool* blocking = nullptr;  // store and runtime work, off the I/O threads
  int64_t max_upload_bytes = 256 << 20;
  // Whether the kind's runtime can load the file; kInvalidArgument carries the runtime's reason.
  // Blocking. The app isolates third-party parsers in a child process here.
  std::function<Status(std::string_view kind, std::string_view bytes,
                       std::string_view metadata_json)>
      check_loadable;
  // Called after an upload, an alias move or a delete (serving drops what it resolved or
  // loaded for that model). May be empty.
  std::function<void(const registry::ModelVersion&)> on_changed;
};

void add_model_routes(net::Router& router, ModelDeps deps);

// Checks the fields Vigil reads from a version's metadata (features, price_per_row,
// alarm_threshold, description); other members are kept as given. Errors name the field
// ("metadata.features: …").
Status validate_model_metadata(const boost::json::object& metadata);

}  // namespace vigil::api
