// /api/v1/devices: the fleet's devices (API.md "Fleet"). Rules (names, types, labels, the
// previous model) live in fleet::DeviceStore; a model assigned must exist in the registry.
#pragma once

#include "core/blocking_pool.h"
#include "fleet/device_store.h"
#include "net/router.h"
#include "registry/model_registry.h"

namespace vigil::api {

struct DeviceDeps {
  fleet::DeviceStore* devices = nullptr;
  registry::ModelRegistry* models = nullptr;  // assignments must name a stored version
  BlockingPool* blocking = nullptr;
};

void add_device_routes(net::Router& router, DeviceDeps deps);

}  // namespace vigil::api
