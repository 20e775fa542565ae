#include "telemetry/telemetry_service.h"

#include <algorithm>
#include <limits>
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
  if (s.ok() && changed) changed(s->id);
  return s;
}

Status TelemetryService::remove(std::string_view name) {
  forget(name);
  auto s = sensors_.get(name);
  Status removed = sensors_.remove(name);
  if (removed.ok() && s.ok() && changed) changed(s->id);
  return removed;
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

detect::LevelSettings TelemetryService::level_settings(const DetectorSettings& d) {
  return {.window = d.window,
          .exclusion = d.exclusion,
          .warn_percent = d.warn_percent,
          .critical_percent = d.critical_percent,
          .normalize = d.normalize,
          .history = std::max(kHistory, d.window + d.exclusion + 2),
          .learn_points = std::max(kLearnPoints, 2 * d.window + d.exclusion + 2)};
}

Expected<std::vector<TelemetryService::Judged>> TelemetryService::anomalies(const Sensor& sensor,
                                                                            int64_t from_ms,
                                                                            int64_t to_ms,
                                                                            size_t max_points) {
  auto range = series_.read(sensor.id, from_ms, to_ms);
  if (!range.ok()) return range.status();
  if (range->size() > max_points) {
    return Status(ErrorCode::kResourceExhausted,
                  "the range holds " + std::to_string(range->size()) + " points, more than " +
                      std::to_string(max_points));
  }
  auto d = primed(sensor, from_ms == std::numeric_limits<int64_t>::min() ? from_ms : from_ms - 1);
  if (!d.ok()) return d.status();
  std::vector<Judged> out;
  out.reserve(range->size());
  for (const Point& p : *range) {
    const detect::Judged j = d->push(p.value);
    out.push_back({p, j.level, j.percent});
  }
  return out;
}

Expected<detect::LevelDetector> TelemetryService::primed(const Sensor& sensor, int64_t upto_ms) {
  const detect::LevelSettings settings = level_settings(sensor.detector);
  if (baselines_) {
    auto current = baselines_->current(sensor.id, true);
    if (!current.ok()) return current.status();
    if (*current) return with_history(sensor, settings, (*current)->values, upto_ms);
  }
  if (upto_ms == std::numeric_limits<int64_t>::min()) return detect::LevelDetector(settings);
  // The baseline the stream learned: its first window of learn_points points that is not flat
  // (as detect::LevelDetector learns it), looked for among the first few.
  constexpr int kMaxLearnWindows = 16;
  const auto learn = static_cast<size_t>(settings.learn_points);
  std::vector<Point> base;
  for (int k = 1; k <= kMaxLearnWindows; ++k) {
    auto head = series_.first(sensor.id, learn * static_cast<size_t>(k));
    if (!head.ok()) return head.status();
    if (head->size() < learn * static_cast<size_t>(k)) break;  // still learning
    std::vector<double> values;
    for (size_t i = head->size() - learn; i < head->size(); ++i) values.push_back((*head)[i].value);
    if (auto max = detect::profile_max(values, settings); max && *max > 0) {
      base.assign(head->end() - static_cast<ptrdiff_t>(learn), head->end());
      break;
    }
  }
  if (base.empty() || upto_ms <= base.back().at_ms) {
    // Still learning at upto_ms: the stream from its start, as it came (at most the learning
    // windows; a sensor flat for longer than those is judged from its latest ones).
    auto all = series_.last(sensor.id, upto_ms, learn * kMaxLearnWindows);
    if (!all.ok()) return all.status();
    detect::LevelDetector d(settings);
    for (const Point& p : *all) d.push(p.value);
    return d;
  }
  std::vector<double> baseline;
  baseline.reserve(base.size());
  for (const Point& p : base) baseline.push_back(p.value);
  return with_history(sensor, settings, baseline, upto_ms);
}

Expected<detect::LevelDetector> TelemetryService::with_history(
    const Sensor& sensor, const detect::LevelSettings& settings, std::span<const double> baseline,
    int64_t upto_ms) {
  detect::LevelDetector d(settings, baseline);
  if (upto_ms == std::numeric_limits<int64_t>::min()) return d;
  auto before = series_.last(sensor.id, upto_ms, static_cast<size_t>(settings.history));
  if (!before.ok()) return before.status();
  for (const Point& p : *before) d.push(p.value);
  return d;
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
    normalize(entry.second);  // (append's own normalize then finds them in order)
    accepted += entry.second.size();
    // The points go to the store; a copy only when `stored` needs them afterwards.
    rows.push_back({id, stored ? entry.second : std::move(entry.second)});
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
    for (auto& [id, entry] : by_id) stored(entry.first, std::move(entry.second));
  }
  return accepted;
}

}  // namespace vigil::telemetry
