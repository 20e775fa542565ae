// SensorStore: the sensors in the store — name (1–64 of [A-Za-z0-9._-], unique ignoring case,
// stored as given), the device it sits on (optional), unit, position (x, y, z), its detector
// settings, whether it is pinned, and how long its points are kept.
//
// Thread-safe; every method blocks on the store (call it off the I/O threads). Errors:
// kInvalidArgument names the bad field ("name", "detector.window", "device", ...); kNotFound
// names the sensor; kAlreadyExists for a duplicate name; kUnavailable when the store is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/database.h"

namespace vigil::telemetry {

// How the sensor's points are judged (PRODUCT.md slice 4; detect/): a matrix profile of
// `window` points with an exclusion zone of `exclusion`; the newest profile value over the
// baseline's maximum, in percent, is ok below warn_percent, warning below critical_percent,
// critical from there; `normalize` z-normalises the windows.
struct DetectorSettings {
  int window = 144;
  int exclusion = 72;
  double warn_percent = 100;
  double critical_percent = 200;
  bool normalize = false;
  bool operator==(const DetectorSettings&) const = default;
};

struct Sensor {
  int64_t id = 0;
  std::string name;
  int64_t device_id = 0;  // 0: none
  std::string device;     // its name; empty: none
  std::string unit;
  std::optional<double> x, y, z;
  DetectorSettings detector;
  bool pinned = false;
  int retention_days = 0;  // 0: points are kept for ever
  std::string created_at, updated_at;
};

// A new sensor, or the fields a change sets (update(): unset ones stay).
struct SensorFields {
  std::optional<std::string> device;  // a device's name; "" to detach
  std::optional<std::string> unit;
  std::optional<std::optional<double>> x, y, z;  // nullopt inside: clear
  std::optional<DetectorSettings> detector;
  std::optional<bool> pinned;
  std::optional<int> retention_days;
};

struct SensorFilter {
  std::optional<bool> pinned;
  std::optional<std::string> device;  // a device's name (any case)
  int limit = 50;
  int64_t after_id = 0;  // paging: sensors with a larger id
};

// Limits on a sensor's fields (checked by create and update).
inline constexpr size_t kMaxUnitLength = 32;
inline constexpr int kMinWindow = 4, kMaxWindow = 1024;
inline constexpr int kMaxRetentionDays = 36500;

class SensorStore {
 public:
  explicit SensorStore(store::Database& db) : db_(db) {}

  Expected<Sensor> create(std::string_view name, const SensorFields& fields);
  Expected<Sensor> get(std::string_view name);
  Expected<Sensor> get_by_id(int64_t id);
  // In id order, `filter.limit` at most (1–1000).
  Expected<std::vector<Sensor>> list(const SensorFilter& filter);
  Expected<Sensor> update(std::string_view name, const SensorFields& fields);
  // Removes the sensor and every point of it.
  Status remove(std::string_view name);

  // Field rules, without the store. kInvalidArgument names "detector.<field>".
  static Status validate(const DetectorSettings& d);
  // The settings as stored (JSON text), and back (missing fields keep their defaults).
  static std::string detector_json(const DetectorSettings& d);
  static DetectorSettings detector_from_json(std::string_view text);

 private:
  Status validate_fields(const SensorFields& f) const;
  Status apply(store::Session& s, int64_t id, const SensorFields& f);

  store::Database& db_;
};

}  // namespace vigil::telemetry
