#include "telemetry/telemetry_service.h"

#include <map>

#include "core/names.h"

namespace vigil::telemetry {

namespace {
constexpr size_t kMaxKnown = 100'000;  // sensors remembered; beyond, the cache starts over
}

Expected<Sensor> TelemetryService::create(std::string_view name, const SensorFields& fields) {
  forget(name);
  return sensors_.create(name, fields);
}

Expected<Sensor> TelemetryService::update(std::string_view name, const SensorFields& fields) {
  forget(name);
  auto s = sensors_.update(name, fields);
  forget(name);  // (a concurrent ingest may have cached the old settings meanwhile)
  return s;
}

Status TelemetryService::remove(std::string_view name) {
  forget(name);
  return sensors_.remove(name);
}

void TelemetryService::forget(std::string_view name) {
  std::lock_guard lock(mu_);
  known_.erase(name_key(name));
}

Expected<Sensor> TelemetryService::resolve(const std::string& name) {
  const std::string key = name_key(name);
  {
    std::lock_guard lock(mu_);
    if (auto it = known_.find(key); it != known_.end()) return it->second;
  }
  auto s = sensors_.get(name);
  if (s.status().code() == ErrorCode::kNotFound) {
    return invalid_field("sensor", "no sensor named " + name + " (create it first)");
  }
  if (!s.ok()) return s.status();
  std::lock_guard lock(mu_);
  if (known_.size() >= kMaxKnown) known_.clear();
  known_[key] = *s;
  return s;
}

Expected<size_t> TelemetryService::ingest(std::vector<NamedPoints> batch, int64_t only_device) {
  // One entry per sensor (names that differ only in case are one sensor).
  std::map<int64_t, std::pair<Sensor, std::vector<Point>>> by_id;
  for (NamedPoints& np : batch) {
    auto sensor = resolve(np.sensor);
    if (!sensor.ok()) return sensor.status();
    if (only_device > 0 && sensor->device_id != only_device) {
      return Status(ErrorCode::kPermissionDenied,
                    "sensor " + sensor->name + " is not on this watchdog's device");
    }
    auto& [s, points] = by_id[sensor->id];
    if (points.empty()) {
      s = *sensor;
      points = std::move(np.points);
    } else {
      points.insert(points.end(), np.points.begin(), np.points.end());
    }
  }
  std::vector<SensorPoints> rows;
  size_t accepted = 0;
  for (auto& [id, entry] : by_id) {
    normalize(entry.second);
    accepted += entry.second.size();
    rows.push_back({id, entry.second});
  }
  if (Status s = series_.append(std::move(rows)); !s.ok()) {
    if (s.code() == ErrorCode::kConflict) {
      // A sensor was deleted (on another node, or just now): forget them all and say so.
      for (const auto& [id, entry] : by_id) forget(entry.first.name);
      return invalid_field("sensor", "a sensor of these points no longer exists");
    }
    return s;
  }
  if (stored) {
    for (const auto& [id, entry] : by_id) stored(entry.first, entry.second);
  }
  return accepted;
}

}  // namespace vigil::telemetry
