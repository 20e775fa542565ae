#include "net/request_metrics.h"

namespace vigil::net {

struct RequestMetrics::PerRoute {
  std::string route;
  std::string method;
  Histogram* latency = nullptr;
  std::array<std::atomic<Counter*>, 600> by_status{};
};

RequestMetrics::RequestMetrics(const Router& router, MetricsRegistry& registry)
    : registry_(registry) {
  auto make = [&](std::string route, std::string method) {
    auto p = std::make_unique<PerRoute>();
    p->latency = &registry.histogram("vigil_http_request_duration_seconds",
                                     "Time from request head to response, by route",
                                     {{"route", route}, {"method", method}});
    p->route = std::move(route);
    p->method = std::move(method);
    return p;
  };
  for (const auto& r : router.routes()) {
    routes_.emplace(r.get(), make(r->pattern, std::string(http::to_string(r->method))));
  }
  unmatched_ = make("unmatched", "any");
}

RequestMetrics::~RequestMetrics() = default;

RequestMetrics::PerRoute& RequestMetrics::per_route(const Route* route) {
  if (!route) return *unmatched_;
  auto it = routes_.find(route);
  return it == routes_.end() ? *unmatched_ : *it->second;
}

void RequestMetrics::after(const Exchange& exchange, HttpResponse& response) {
  PerRoute& p = per_route(exchange.route());
  auto elapsed = exchange.finished() - exchange.started();
  p.latency->observe(std::chrono::duration<double>(elapsed).count());
  unsigned status = response.result_int();
  if (status >= p.by_status.size()) status = 599;
  Counter* c = p.by_status[status].load(std::memory_order_acquire);
  if (!c) {
    c = &registry_.counter(
        "vigil_http_requests_total", "HTTP requests by route and status",
        {{"route", p.route}, {"method", p.method}, {"status", std::to_string(status)}});
    p.by_status[status].store(c, std::memory_order_release);
  }
  c->inc();
}

}  // namespace vigil::net
