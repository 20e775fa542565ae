// Middleware that counts requests by route pattern, method and status, and records latency
// (vigil_http_requests_total, vigil_http_request_duration_seconds). Unmatched paths share the
// route label "unmatched" so scanners cannot blow up the label space.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/metrics.h"
#include "net/middleware.h"
#include "net/router.h"

namespace vigil::net {

class RequestMetrics final : public Middleware {
 public:
  // Registers one series set per route of `router` (which must not change afterwards).
  RequestMetrics(const Router& router, MetricsRegistry& registry);
  ~RequestMetrics() override;
  void after(const Exchange& exchange, HttpResponse& response) override;

 private:
  struct PerRoute;
  PerRoute& per_route(const Route* route);

  MetricsRegistry& registry_;
  std::unordered_map<const Route*, std::unique_ptr<PerRoute>> routes_;
  std::unique_ptr<PerRoute> unmatched_;
};

}  // namespace vigil::net
