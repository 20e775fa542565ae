// GET /api/v1/ws/device: the device WebSocket (API.md "WebSocket: devices", docs/protocol.md).
// A watchdog's token opens it; each session is handed to fleet::DeviceHub, which owns the
// protocol. This file only adapts net::WsConnection to fleet::DeviceLink.
#pragma once

#include "fleet/device_hub.h"
#include "net/router.h"

namespace vigil::api {

void add_device_ws_route(net::Router& router, fleet::DeviceHub& hub);

}  // namespace vigil::api
