#include "api/sensor_events.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <limits>

#include "core/ids.h"

namespace vigil::api {
namespace json = boost::json;

namespace {

json::value percent_value(double percent) {
  return std::isfinite(percent) ? json::value(percent) : json::value(nullptr);
}

std::string topic_of(const telemetry::Sensor& s) { return "sensor:" + s.name; }

// The key of a sensor's one open detector alarm.
fleet::AlarmReport detector_alarm(const telemetry::Sensor& s) {
  fleet::AlarmReport r;
  r.device_id = s.device_id;
  r.sensor = s.name;
  r.source = "detector";
  r.severity = "critical";
  return r;
}

}  // namespace

json::object judged_point_json(const telemetry::JudgedPoint& p) {
  return {{"at", format_epoch_ms(p.point.at_ms)},
          {"value", p.point.value},
          {"level", detect::level_name(p.level)},
          {"percent", percent_value(p.percent)}};
}

json::object points_event(const telemetry::Sensor& sensor,
                          std::span<const telemetry::JudgedPoint> points, bool history) {
  json::array items;
  items.reserve(points.size());
  for (const auto& p : points) items.push_back(judged_point_json(p));
  return {{"kind", "points"},
          {"sensor", sensor.name},
          {"history", history},
          {"points", std::move(items)}};
}

telemetry::LiveHooks sensor_event_hooks(SensorEventsDeps deps) {
  telemetry::LiveHooks hooks;
  hooks.judged = [deps](const telemetry::Sensor& s, std::span<const telemetry::JudgedPoint> p) {
    if (!deps.hub) return;
    const std::string topic = topic_of(s);
    if (deps.hub->has_subscribers(topic)) deps.hub->broadcast(topic, points_event(s, p, false));
  };
  hooks.changed = [deps](const telemetry::Sensor& s, const telemetry::JudgedPoint& p,
                         detect::Level previous) {
    if (deps.hub) {
      deps.hub->publish(topic_of(s), {{"kind", "level"},
                                      {"sensor", s.name},
                                      {"at", format_epoch_ms(p.point.at_ms)},
                                      {"value", p.point.value},
                                      {"level", detect::level_name(p.level)},
                                      {"previous", detect::level_name(previous)},
                                      {"percent", percent_value(p.percent)}});
    }
    if (!deps.alarms) return;
    fleet::AlarmReport report = detector_alarm(s);
    if (p.level == detect::Level::kCritical) {
      report.at = std::to_string(p.point.at_ms);
      report.details = json::serialize(json::object{{"percent", percent_value(p.percent)},
                                                    {"value", p.point.value},
                                                    {"at", format_epoch_ms(p.point.at_ms)}});
      auto alarm = deps.alarms->report(report);
      if (!alarm.ok()) {
        spdlog::warn("detect: sensor {} turned critical, but its alarm was not stored: {}", s.name,
                     alarm.status().to_string());
      } else if (deps.alarm_changed) {
        deps.alarm_changed(*alarm, "reported");
      }
    } else if (p.level == detect::Level::kOk) {
      auto cleared = deps.alarms->clear_open(report);
      if (!cleared.ok()) {
        spdlog::warn("detect: sensor {} is ok again, but its alarm was not cleared: {}", s.name,
                     cleared.status().to_string());
      } else if (*cleared && deps.alarm_changed) {
        deps.alarm_changed(**cleared, "cleared");
      }
    }
  };
  return hooks;
}

Expected<json::object> sensor_recent(telemetry::TelemetryService& telemetry,
                                     std::string_view name) {
  auto sensor = telemetry.get(name);
  if (!sensor.ok()) return sensor.status();
  auto last =
      telemetry.series().last(sensor->id, std::numeric_limits<int64_t>::max(), kSensorRecentPoints);
  if (!last.ok()) return last.status();
  std::vector<telemetry::JudgedPoint> points;
  if (!last->empty()) {
    auto judged = telemetry.anomalies(*sensor, last->front().at_ms, last->back().at_ms,
                                      kSensorRecentPoints * 2);
    if (!judged.ok()) return judged.status();
    points = std::move(*judged);
  }
  return points_event(*sensor, points, true);
}

}  // namespace vigil::api
