// Server: listener, I/O threads and the live sessions. HTTP/1.1 with keep-alive, WebSocket
// upgrade for routes added with Router::add_websocket, optional TLS.
//
// Requests are authenticated and authorised on their head: the middleware chain runs before a
// body is read, so a caller who will be refused never sends it (no 100 Continue, no buffering).
//
// Limits: request head size (431), body size per route (413), body bytes in flight for the
// server (503) and per client address (429), the time to send a head
// (header_timeout) or a body (body_timeout) — slow clients get 408 and the connection closes —,
// idle keep-alive (idle_timeout), and the number of open connections: max_connections, lowered
// at start() to what the descriptor limit allows (effective_max_connections; logged, and in
// metrics as vigil_http_connections_max). Should the process still run out of descriptors,
// the accept loop backs off, logs once per 10 s with a count, and uses a reserved descriptor
// to accept each waiting connection, answer it 503 and close it, so clients are not left
// hanging in the backlog.
//
// stop(): stops accepting, lets in-flight requests finish (up to shutdown_grace), closes idle
// connections and WebSocket sessions, then joins the I/O threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"
#include "net/middleware.h"
#include "net/router.h"

namespace vigil::net {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;   // 0: a free port, see Server::port()
  int io_threads = 0;  // 0: hardware concurrency
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  // Request bodies held in memory at once (see BodyBudget): the whole server, one client address.
  size_t max_body_bytes_in_flight = size_t{1} << 30;
  size_t max_body_bytes_per_client = size_t{512} << 20;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{60000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds ws_idle_timeout{60000};
  std::chrono::milliseconds shutdown_grace{10000};
  size_t max_connections = 100000;
  size_t ws_max_queued_bytes = 4 * 1024 * 1024;
  std::string tls_cert_file;  // both set: TLS on every connection
  std::string tls_key_file;
};

// Posts fn to the calling I/O thread's event loop, behind the handlers that are ready now (the
// events one turn of the loop read), and returns true; false, with fn dropped, when the calling
// thread is not one of a running Server's I/O threads. Lets work that many requests of one turn
// share (a batch of predictions) run once at the end of that turn, on the same thread.
bool defer_on_io_thread(std::function<void()> fn);

// Descriptors kept free of connections for the rest of the process (the store, files, logs).
constexpr size_t kFdHeadroom = 64;

// The connections a server can hold: `configured`, lowered so that connections cannot use up
// the descriptor limit (`fd_limit`, RLIMIT_NOFILE's soft value; 0 = none) given `fds_open`
// descriptors open already and kFdHeadroom; at least 1.
size_t effective_max_connections(size_t configured, uint64_t fd_limit, size_t fds_open);

class Server {
 public:
  // router and middleware must outlive the server and not change after start().
  Server(ServerOptions options, const Router& router, std::vector<Middleware*> middleware,
         MetricsRegistry& metrics);
  ~Server();  // stops if running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the I/O threads. kUnavailable when the address cannot be bound,
  // kInvalidArgument for unreadable TLS files.
  Status start();
  uint16_t port() const;
  bool tls() const;
  // Graceful stop; idempotent; blocks until every I/O thread has finished.
  void stop();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::net
