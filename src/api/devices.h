// /api/v1/devices, /api/v1/enroll, /api/v1/watchdogs, /api/v1/fleet/signing-key: the fleet's
// devices and how agents become their watchdogs (API.md "Fleet"). Rules (names, types, labels, the
// previous model) live in fleet::DeviceStore; a model assigned must exist in the registry.
#pragma once

#include "core/blocking_pool.h"
#include "fleet/device_hub.h"
#include "fleet/device_store.h"
#include "fleet/watchdogs.h"
#include "net/router.h"
#include "registry/model_registry.h"
#include "registry/model_service.h"

namespace vigil::api {

struct DeviceDeps {
  fleet::DeviceStore* devices = nullptr;
  fleet::WatchdogService* watchdogs = nullptr;
  std::string signing_key;                    // the public key devices check models with (base64)
  registry::ModelRegistry* models = nullptr;  // assignments must name a stored version
  BlockingPool* blocking = nullptr;
  fleet::DeviceHub* hub = nullptr;  // assignments are pushed; a deleted watchdog is disconnected
  registry::ModelService* model_service = nullptr;  // POST /devices/{name}/models stores with it
  int64_t max_upload_bytes = 256 << 20;
};

void add_device_routes(net::Router& router, DeviceDeps deps);

}  // namespace vigil::api
