#include "api/device_ws.h"

#include <mutex>
#include <unordered_map>

#include "api/schemas.h"

namespace vigil::api {
namespace {

class WsDeviceLink final : public fleet::DeviceLink {
 public:
  explicit WsDeviceLink(std::shared_ptr<net::WsConnection> conn) : conn_(std::move(conn)) {}
  void send(std::string frame) override { conn_->send(std::move(frame)); }
  void close(std::string_view reason) override { conn_->close(reason); }

 private:
  std::shared_ptr<net::WsConnection> conn_;
};

class DeviceEndpoint final : public net::WsEndpoint {
 public:
  explicit DeviceEndpoint(fleet::DeviceHub& hub) : hub_(hub) {}

  void on_open(const std::shared_ptr<net::WsConnection>& conn) override {
    const Principal* p = conn->principal();
    if (!p) return conn->close("a watchdog token is needed");
    auto session = hub_.open(std::make_shared<WsDeviceLink>(conn), p->user_id);
    std::lock_guard lock(mu_);
    sessions_[conn->id()] = std::move(session);
  }

  void on_message(const std::shared_ptr<net::WsConnection>& conn, std::string_view text) override {
    auto session = find(conn->id());
    if (session) hub_.receive(session, text);
  }

  void on_close(const std::shared_ptr<net::WsConnection>& conn) override {
    std::shared_ptr<fleet::DeviceHub::Session> session;
    {
      std::lock_guard lock(mu_);
      auto it = sessions_.find(conn->id());
      if (it == sessions_.end()) return;
      session = std::move(it->second);
      sessions_.erase(it);
    }
    hub_.closed(session);
  }

 private:
  std::shared_ptr<fleet::DeviceHub::Session> find(uint64_t id) {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second;
  }

  fleet::DeviceHub& hub_;
  std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<fleet::DeviceHub::Session>> sessions_;
};

}  // namespace

void add_device_ws_route(net::Router& router, fleet::DeviceHub& hub) {
  router.add_websocket(
      "/api/v1/ws/device",
      {.operation_id = "deviceSession",
       .summary = "The device WebSocket (upgrade): hello/welcome, pull/model, commands and their "
                  "status, alarms and acks, telemetry and acks once durable, ping/pong; one JSON "
                  "object per text frame (docs/protocol.md)",
       .tag = "fleet",
       .action = "devices.session",
       .responses = {{101, "Switching protocols"},
                     problem_response(426, "Not a WebSocket upgrade request")}},
      std::make_shared<DeviceEndpoint>(hub));
}

}  // namespace vigil::api
