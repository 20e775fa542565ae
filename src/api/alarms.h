// /api/v1/alarms: the alarms raised on the fleet's devices (API.md "Alarms") — a filtered list,
// newest first; one alarm; POST, the watchdogs' REST fallback for reporting one on their own
// device; acknowledge and clear. The rules (one open alarm per device, model version, source and
// sensor; severities only rise; a resend with the same id is stored once; what a report may
// carry) live in fleet::AlarmStore.
#pragma once

#include <functional>
#include <string_view>

#include "core/blocking_pool.h"
#include "fleet/alarm_store.h"
#include "fleet/watchdogs.h"
#include "net/router.h"

namespace vigil::api {

struct AlarmDeps {
  fleet::AlarmStore* alarms = nullptr;
  fleet::WatchdogService* watchdogs = nullptr;  // whose device a reporting watchdog watches
  BlockingPool* blocking = nullptr;
  // Called on the blocking pool with each alarm a report, an acknowledgement or a clear changed,
  // and what happened ("reported", "acknowledged", "cleared"): the rollouts and the events hub
  // see these as they see the device WebSocket's reports. May be empty.
  std::function<void(const fleet::Alarm&, std::string_view kind)> changed;
};

// Largest body POST /api/v1/alarms reads (413 above); details alone may hold 16 KiB (422 above).
inline constexpr int64_t kMaxAlarmBodyBytes = 64 * 1024;

void add_alarm_routes(net::Router& router, AlarmDeps deps);

}  // namespace vigil::api
