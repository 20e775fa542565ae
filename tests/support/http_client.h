// HTTP helpers for integration tests: the client library (src/client) on a loopback port, and
// a raw socket for sending deliberately broken bytes.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <functional>
#include <string>

#include "client/http_client.h"

namespace vigil::testing {

using HttpResult = client::Response;

// client::HttpClient on http://host:port, with room for the tests' large bodies.
class HttpClient : public client::HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::string host = "127.0.0.1");
};

// A plain TCP connection for raw bytes.
class RawConnection {
 public:
  // `from`: the local address to connect from (any of 127.0.0.0/8 is loopback), or the default.
  explicit RawConnection(uint16_t port, const std::string& from = {});
  bool send(const std::string& bytes);
  // Reads until the peer closes or `timeout` passes; returns what arrived.
  std::string read_all(std::chrono::milliseconds timeout);
  // Reads one response (its head and Content-Length bytes of body, or one interim head) without
  // waiting for the close; what arrived when `timeout` passes.
  std::string read_response(std::chrono::milliseconds timeout);
  // true when the peer closed the connection within `timeout`.
  bool closed_within(std::chrono::milliseconds timeout);

 private:
  std::string read_until(std::chrono::milliseconds timeout,
                         const std::function<bool(const std::string&)>& done);
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
};

// An Authorization header value for Basic credentials.
std::string basic_authorization(const std::string& user, const std::string& password);

// The status code of a raw HTTP response ("HTTP/1.1 431 ..."), 0 if none.
int status_of(const std::string& raw_response);

}  // namespace vigil::testing
