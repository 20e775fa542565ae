// A minimal HTTP/1.1 client connection: one request at a time over a kept-alive connection,
// reconnecting when the server closed it. Bodies must come with Content-Length (Vigil's do);
// a body goes to a sink as it arrives (a download is hashed, never held) or into a string.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common.h"

namespace fleet_load {

struct HttpAnswer {
  int status = 0;          // 0: no answer (the error says why)
  int retry_after_s = -1;  // Retry-After, when given
  std::string body;        // unless a sink took it
  std::string error;       // transport or protocol failure
};

class HttpConn {
 public:
  using Sink = std::function<void(const char* data, size_t n)>;
  using Done = std::function<void(HttpAnswer&)>;

  HttpConn(boost::asio::io_context& ctx, boost::asio::ip::tcp::endpoint server,
           boost::asio::ip::address_v4 source);
  HttpConn(const HttpConn&) = delete;
  HttpConn& operator=(const HttpConn&) = delete;

  // Sends `request` (head and body, as request_text makes it). With a sink, the body of a 2xx
  // answer goes there; other bodies go to HttpAnswer::body. One request at a time.
  void send(std::string request, Sink sink, Done done);
  uint64_t connects() const { return connects_; }

 private:
  void start(bool fresh);
  void write();
  void read();
  // Parses what `data` holds; false once the answer is complete or failed.
  bool consume(const char* data, size_t n);
  void finish(std::string error = {});

  boost::asio::ip::tcp::socket sock_;
  boost::asio::ip::tcp::endpoint server_;
  boost::asio::ip::address_v4 source_;
  std::vector<char> buffer_;
  std::string request_;
  Sink sink_;
  Done done_;
  HttpAnswer answer_;
  std::string head_;
  uint64_t body_left_ = 0;
  uint64_t received_ = 0;  // bytes of this answer so far: none = the server closed an idle one
  uint64_t connects_ = 0;
  bool in_body_ = false;
  bool close_after_ = false;
  bool retried_ = false;
};

// "METHOD target HTTP/1.1" with Host, an optional Bearer token and an optional JSON body.
std::string request_text(std::string_view method, std::string_view target,
                         std::string_view host_header, std::string_view token,
                         std::string_view json_body = {});

// The closed-loop load of S4 and S9: the measured window (warm-up seconds from now, then
// `measure_s`), and `n` kept-alive loopback connections to `target`, loop i started on its
// connection by start(i, conn); runs `ctx` until every loop has stopped.
struct Window {
  Clock::time_point from, until;
};
Window measure_window(double warmup_s, double measure_s);
void run_loops(asio::io_context& ctx, const Target& target, int n,
               const std::function<void(int, HttpConn&)>& start);

}  // namespace fleet_load
