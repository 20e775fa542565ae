// What every resource file uses to stay thin: a handler object's member bound as a route
// handler, and store or other blocking work run on the blocking pool, never on an I/O thread.
#pragma once

#include <spdlog/spdlog.h>
#include "core/blocking_pool.h"

#include <exception>
#include <memory>
#include <utility>

#include "net/http.h"

namespace vigil::api {

using ExchangePtr = std::shared_ptr<net::Exchange>;

// A route handler calling `fn` on the object `h`, which holds the resource's dependencies and
// lives as long as the route.
template <class H>
net::Handler bind(std::shared_ptr<const H> h, void (H::*fn)(const ExchangePtr&) const) {
  return [h = std::move(h), fn](const ExchangePtr& ex) { ((*h).*fn)(ex); };
}

// Answers 503 with Retry-After: the blocking pool's queue is full (a flood of slow work).
inline void respond_busy(net::Exchange& ex) {
  auto res = net::make_problem(net::http::status::service_unavailable,
                               "the server is busy; retry in a moment");
  res.set(net::http::field::retry_after, "1");
  ex.respond(std::move(res));
}

// Runs fn(exchange) on `pool`, or answers 503 (respond_busy) when its queue is full. fn answers
// the exchange; an exception it lets out is answered 500 (and logged) rather than lost.
template <class Fn>
void off_io(BlockingPool& pool, const ExchangePtr& ex, Fn fn) {
  bool queued = pool.try_post([ex, fn = std::move(fn)]() mutable {
    try {
      fn(*ex);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", std::string(ex->request().method_string()),
                    std::string(ex->path()), e.what());
      ex->respond_problem(net::http::status::internal_server_error, "internal error");
    }
  });
  if (!queued) respond_busy(*ex);
}

}  // namespace vigil::api
