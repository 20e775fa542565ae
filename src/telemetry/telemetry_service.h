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

#include "telemetry/ingest_parse.h"
#include "telemetry/sensor_store.h"
#include "telemetry/series_store.h"

namespace vigil::telemetry {

class TelemetryService {
 public:
  TelemetryService(SensorStore& sensors, SeriesStore& series)
      : sensors_(sensors), series_(series) {}

  // Called after each stored batch, once per sensor in it, with its points in time order (a
  // sensor named twice in the batch comes once). On the ingesting thread; may be empty.
  std::function<void(const Sensor&, std::span<const Point>)> stored;

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

 private:
  Expected<Sensor> resolve(const std::string& name);
  void forget(std::string_view name);

  SensorStore& sensors_;
  SeriesStore& series_;
  std::mutex mu_;
  std::unordered_map<std::string, Sensor> known_;  // by name key; guarded by mu_
};

}  // namespace vigil::telemetry
