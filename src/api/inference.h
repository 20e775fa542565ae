// Synchronous predictions: the KServe v2 protocol (/v2/health/*, /v2/models/{name}[/versions/
// {version}][/ready|/infer]) and /api/v1/predict/{name} with named features. API.md "Inference".
#pragma once

#include <boost/asio/thread_pool.hpp>

#include <functional>

#include "net/router.h"
#include "registry/model_registry.h"
#include "serving/model_server.h"

namespace vigil::api {

struct InferenceDeps {
  serving::ModelServer* server = nullptr;
  registry::ModelRegistry* registry = nullptr;
  boost::asio::thread_pool* blocking = nullptr;
  size_t max_rows = 10000;
  int64_t max_body_bytes = 64 << 20;
  std::function<bool()> ready;  // /v2/health/ready
};

void add_inference_routes(net::Router& router, InferenceDeps deps);

}  // namespace vigil::api
