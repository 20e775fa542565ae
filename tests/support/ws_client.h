// A blocking WebSocket client for integration tests: connects to 127.0.0.1 with an optional
// bearer token, sends JSON frames, and reads frames with a deadline (never hangs a test).
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace vigil::testing {

class WsClient {
 public:
  // Connects and upgrades; ok() says whether that worked (status() has the HTTP status when the
  // server refused the upgrade).
  WsClient(uint16_t port, const std::string& target, const std::string& token = {});
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  bool ok() const { return ok_; }
  int status() const { return status_; }
  const std::string& error() const { return error_; }

  bool send(const boost::json::value& message);
  bool send_text(const std::string& text);
  // The next text frame, parsed; nullopt on timeout or when the connection ended.
  std::optional<boost::json::object> next(std::chrono::milliseconds timeout);
  // Reads frames until one has this "type" (others are dropped); nullopt on timeout or end.
  std::optional<boost::json::object> next_of_type(const std::string& type,
                                                  std::chrono::milliseconds timeout);
  // True when the server closes the connection within the timeout.
  bool closed_within(std::chrono::milliseconds timeout);
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool ok_ = false;
  int status_ = 0;
  std::string error_;
};

}  // namespace vigil::testing
