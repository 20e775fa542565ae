// What live detection tells the world (API.md "WebSocket: events", docs/http/events.md): on the
// topic `sensor:<name>`, each judged batch as a sample {"kind":"points","history":false,…}
// (events::Hub::broadcast: live readers only, not kept) and each change of level as a kept
// event {"kind":"level",…}; a sensor turning critical reports a detector alarm (one open alarm
// per sensor: later critical turns count into it), and its level back to ok clears it. A new
// subscriber to `sensor:<name>` first gets sensor_recent()'s frame: the last 144 points with
// their levels, {"kind":"points","history":true,…}.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <span>
#include <string_view>

#include "events/hub.h"
#include "fleet/alarm_store.h"
#include "telemetry/live_detection.h"

namespace vigil::api {

// The points history a new subscriber gets first.
inline constexpr size_t kSensorRecentPoints = 144;

boost::json::object judged_point_json(const telemetry::JudgedPoint& p);
boost::json::object points_event(const telemetry::Sensor& sensor,
                                 std::span<const telemetry::JudgedPoint> points, bool history);

struct SensorEventsDeps {
  events::Hub* hub = nullptr;           // null: nothing published
  fleet::AlarmStore* alarms = nullptr;  // null: no alarms
  // After a detector alarm changed (reported, cleared): what alarms from elsewhere get too.
  std::function<void(const fleet::Alarm&, std::string_view kind)> alarm_changed;
};

// The hooks for telemetry::LiveDetection. They run on a detection thread (alarms block on the
// store there). The deps outlive the detector.
telemetry::LiveHooks sensor_event_hooks(SensorEventsDeps deps);

// The last kSensorRecentPoints points of the sensor with their levels, as the event body a new
// subscriber gets first. Blocks on the store. kNotFound for an unknown sensor.
Expected<boost::json::object> sensor_recent(telemetry::TelemetryService& telemetry,
                                            std::string_view sensor);

}  // namespace vigil::api
