// Internal to net/: what the listener and every session share. Not for other modules.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/metrics.h"
#include "net/body_budget.h"
#include "net/middleware.h"
#include "net/router.h"
#include "net/server.h"

namespace vigil::net {

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// A live connection the server can ask to wind down (from any thread).
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Graceful: finish what is in flight, then close. Posts to the session's strand.
  virtual void shutdown() = 0;
};

struct ServerState {
  ServerState(ServerOptions o, const Router& r, std::vector<Middleware*> m, MetricsRegistry& reg)
      : options(std::move(o)),
        router(r),
        middleware(std::move(m)),
        metrics(reg),
        http_connections(reg.gauge("vigil_http_connections", "Open HTTP connections")),
        ws_sessions(reg.gauge("vigil_websocket_sessions", "Open WebSocket sessions")),
        rejected_connections(reg.counter("vigil_http_connections_rejected_total",
                                         "Connections closed at accept: over max_connections")),
        body_budget(options.max_body_bytes_in_flight, options.max_body_bytes_per_client,
                    &reg.gauge("vigil_http_body_bytes_in_flight",
                               "Request body bytes being received or handled")),
        bodies_refused_server(reg.counter("vigil_http_bodies_refused_total",
                                          "Requests refused before their body was read: the "
                                          "server's or the client's body budget was full",
                                          {{"limit", "server"}})),
        bodies_refused_client(reg.counter("vigil_http_bodies_refused_total",
                                          "Requests refused before their body was read: the "
                                          "server's or the client's body budget was full",
                                          {{"limit", "client"}})),
        max_connections_gauge(reg.gauge("vigil_http_connections_max",
                                        "Open connections the server accepts: "
                                        "server.max_connections, lowered to fit the descriptor "
                                        "limit")),
        fd_limit_gauge(reg.gauge("vigil_process_fd_limit",
                                 "The process's descriptor limit (RLIMIT_NOFILE, soft) at start")),
        accept_out_of_fds(reg.counter("vigil_http_accept_errors_total", "Failed accepts, by error",
                                      {{"error", "no_descriptors"}})),
        accept_other_errors(reg.counter("vigil_http_accept_errors_total",
                                        "Failed accepts, by error", {{"error", "other"}})),
        connections_shed(reg.counter("vigil_http_connections_shed_total",
                                     "Connections answered 503 and closed at accept: the "
                                     "process was out of descriptors")) {}

  uint64_t add_session(std::weak_ptr<SessionBase> s) {
    std::lock_guard lock(mu);
    uint64_t id = ++next_id;
    sessions.emplace(id, std::move(s));
    return id;
  }
  void remove_session(uint64_t id) {
    std::lock_guard lock(mu);
    sessions.erase(id);
  }
  std::vector<std::shared_ptr<SessionBase>> live_sessions() {
    std::lock_guard lock(mu);
    std::vector<std::shared_ptr<SessionBase>> out;
    for (auto& [id, w] : sessions) {
      if (auto s = w.lock()) out.push_back(std::move(s));
    }
    return out;
  }

  const ServerOptions options;
  const Router& router;
  const std::vector<Middleware*> middleware;
  MetricsRegistry& metrics;
  Gauge& http_connections;
  Gauge& ws_sessions;
  Counter& rejected_connections;
  BodyBudget body_budget;
  Counter& bodies_refused_server;
  Counter& bodies_refused_client;
  Gauge& max_connections_gauge;
  Gauge& fd_limit_gauge;
  Counter& accept_out_of_fds;
  Counter& accept_other_errors;
  Counter& connections_shed;
  size_t max_connections = 0;  // effective; set by start() before the first accept
  std::atomic<bool> stopping{false};
  std::atomic<size_t> open_connections{0};
  std::optional<boost::asio::ssl::context> ssl;

 private:
  std::mutex mu;
  uint64_t next_id = 0;
  std::unordered_map<uint64_t, std::weak_ptr<SessionBase>> sessions;
};

// Starts serving an accepted connection (defined in http_session.cpp).
void start_http_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerState> state);

// Takes over a stream after an accepted WebSocket upgrade (defined in websocket_session.cpp).
template <class Stream>
void start_websocket_session(Stream stream, HttpRequest request, std::shared_ptr<Exchange> upgrade,
                             std::shared_ptr<ServerState> state);

}  // namespace vigil::net
