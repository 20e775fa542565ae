// WebSocket endpoints. A route upgraded to WebSocket hands each session to its WsEndpoint.
// Callbacks for one connection never run concurrently; different connections' callbacks do.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/principal.h"

namespace vigil::net {

class WsConnection {
 public:
  virtual ~WsConnection() = default;
  // Queues a text frame. Thread-safe. A connection whose queue grows past its limit (a peer
  // that does not read) is closed.
  virtual void send(std::string text) = 0;
  // Closes with a normal close frame after the queued frames. Thread-safe; idempotent.
  virtual void close(std::string_view reason = {}) = 0;
  virtual uint64_t id() const = 0;
  virtual const std::string& remote_ip() const = 0;
  // The caller authenticated on the upgrade request; nullptr when anonymous.
  virtual const Principal* principal() const = 0;
};

class WsEndpoint {
 public:
  virtual ~WsEndpoint() = default;
  virtual void on_open(const std::shared_ptr<WsConnection>& /*conn*/) {}
  virtual void on_message(const std::shared_ptr<WsConnection>& conn, std::string_view text) = 0;
  // Called once when the session ends for any reason (peer close, idle timeout, shutdown).
  virtual void on_close(const std::shared_ptr<WsConnection>& /*conn*/) {}
};

}  // namespace vigil::net
