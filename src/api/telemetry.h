// /api/v1/sensors and /api/v1/telemetry (API.md "Telemetry and anomaly detection"): sensors
// (list with ?pinned= and ?device=, create, read, change, delete), ingest of points (JSON in
// either shape, or text/csv `sensor,at,value`; 202 {"accepted"} once they are durable) and a
// sensor's series, raw or in buckets. The rules live in telemetry::TelemetryService (sensors,
// resolving names, storing) and telemetry::SeriesStore (reading).
#pragma once

#include "core/blocking_pool.h"
#include "fleet/watchdogs.h"
#include "net/router.h"
#include "telemetry/telemetry_service.h"

namespace vigil::api {

struct TelemetryDeps {
  telemetry::TelemetryService* telemetry = nullptr;
  fleet::WatchdogService* watchdogs = nullptr;  // a watchdog posts for its own device's sensors
  BlockingPool* blocking = nullptr;
};

// Largest body POST /api/v1/telemetry reads (413 above): room for kMaxIngestPoints points.
inline constexpr int64_t kMaxTelemetryBodyBytes = 16 * 1024 * 1024;
// A series read without buckets answers at most this many points (422 above: ask for buckets).
inline constexpr size_t kMaxSeriesPoints = 100'000;

void add_telemetry_routes(net::Router& router, TelemetryDeps deps);

}  // namespace vigil::api
