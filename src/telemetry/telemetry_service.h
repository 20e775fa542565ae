// TelemetryService: what the API does with sensors and points. Sensors are created, changed and
// removed through it (so the names it resolves for ingest stay right: it keeps name → sensor for
// the sensors it has seen, and forgets one when it changes here or turns out deleted elsewhere);
// ingest() resolves every sensor of a batch first (an unknown one refuses the whole batch), then
// stores the points (SeriesStore: durable when it returns) and hands them to `stored` (the
// detector, the events).
//
// Thread-safe; every method blocks on the store. Errors: as SensorStore's and SeriesStore's;
// ingest: kInvalidArgument naming "sensor" for an unknown sensor.
#pragma once

#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "detect/level_detector.h"
#include "telemetry/baseline_store.h"
#include "telemetry/ingest_parse.h"
#include "telemetry/sensor_store.h"
#include "telemetry/series_store.h"

namespace vigil::telemetry {

// A point with its anomaly level.
struct JudgedPoint {
  Point point;
  detect::Level level = detect::Level::kUndefined;
  double percent = 0;  // of the baseline's maximum; NaN when undefined
};

class TelemetryService {
 public:
  TelemetryService(SensorStore& sensors, SeriesStore& series)
      : sensors_(sensors), series_(series) {}

  // Called after each stored batch, once per sensor in it, with its points in time order (a
  // sensor named twice in the batch comes once), handed over (the store had its own copy). On
  // the ingesting thread; may be empty.
  std::function<void(const Sensor&, std::vector<Point>&&)> stored;
  // Called after a sensor's settings changed or it was removed through this service, with its
  // id (the live detector starts it over). On the calling thread; may be empty.
  std::function<void(int64_t sensor_id)> changed;

  Expected<Sensor> create(std::string_view name, const SensorFields& fields);
  Expected<Sensor> update(std::string_view name, const SensorFields& fields);
  Status remove(std::string_view name);
  Expected<Sensor> get(std::string_view name) { return sensors_.get(name); }
  Expected<std::vector<Sensor>> list(const SensorFilter& f) { return sensors_.list(f); }

  // Stores the batch; returns the number of points accepted (a point repeated in the batch
  // counts once). With `only_device` (a watchdog's device), every sensor must be on that device
  // (kPermissionDenied naming the first that is not).
  Expected<size_t> ingest(std::vector<NamedPoints> batch, int64_t only_device = 0);

  SeriesStore& series() { return series_; }

  // The anomaly level of each of the sensor's points in [from_ms, to_ms] (detect::LevelDetector
  // with the sensor's detector settings), recomputed from the stored series: the baseline is
  // the sensor's own (use_baselines; its current one, also for past points), else its first
  // kLearnPoints points (levels undefined while they come), the history the
  // kHistory points before from_ms. kResourceExhausted above max_points points.
  using Judged = JudgedPoint;
  static constexpr int kHistory = 2048;
  static constexpr int kLearnPoints = 576;  // four days of a point every 10 minutes
  Expected<std::vector<Judged>> anomalies(const Sensor& sensor, int64_t from_ms, int64_t to_ms,
                                          size_t max_points);
  static detect::LevelSettings level_settings(const DetectorSettings& d);

  // A detector ready for the sensor's points after upto_ms: its baseline (its own, else the one
  // the stream learned), then its history — the kHistory points at or before upto_ms, or, while it
  // was still learning then, the stream from its start — pushed through it, so its level() is the
  // last of those points' and the next push() judges the next point as the stream would have.
  // upto_ms = INT64_MIN: a fresh detector.
  Expected<detect::LevelDetector> primed(const Sensor& sensor, int64_t upto_ms);

  // Sensors with a baseline of their own (BaselineStore::current) are judged against it, not a
  // learned one. Before any other call; the store outlives this service.
  void use_baselines(BaselineStore* baselines) { baselines_ = baselines; }

 private:
  Expected<Sensor> resolve(const std::string& name);
  Expected<detect::LevelDetector> with_history(const Sensor& sensor,
                                               const detect::LevelSettings& settings,
                                               std::span<const double> baseline, int64_t upto_ms);
  void forget(std::string_view name);

  SensorStore& sensors_;
  SeriesStore& series_;
  BaselineStore* baselines_ = nullptr;
  std::mutex mu_;
  std::unordered_map<std::string, Sensor> known_;  // by name key; guarded by mu_
};

}  // namespace vigil::telemetry
