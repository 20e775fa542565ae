// BaselineStore: the baseline library (named normal series) and each sensor's baselines over
// time (migration 0017). Values are kept lossless in the series codec (a point per value); a NaN
// is a gap (a discord cleaned out, a missing reading): windows holding one never count.
// A sensor's newest sensor_baselines row is the baseline it is judged against; a sensor without
// one learns its baseline from its own first points (TelemetryService::primed).
//
// Thread-safe; every method blocks on the store. Errors: kInvalidArgument naming the field
// (name, values); kAlreadyExists for a taken name; kNotFound for an unknown one; kUnavailable
// when the store is.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/database.h"

namespace vigil::telemetry {

// Limits on a baseline's values.
inline constexpr size_t kMinBaselinePoints = 16;
inline constexpr size_t kMaxBaselinePoints = 16384;

struct Baseline {
  int64_t id = 0;
  std::string name;
  std::string source;  // upload | sensor | seed
  std::string sensor;  // source sensor: the sensor it was cut from (its name then)
  std::optional<int64_t> from_ms, to_ms;
  int removed = 0;  // discord windows cleaned out
  int64_t points = 0;
  double mean = 0, std = 0;
  std::vector<double> values;  // filled when asked for
  std::string created_at;
  int64_t created_by = 0;  // 0: the server (a seed)
};

struct NewBaseline {
  std::string name;
  std::string source = "upload";
  std::string sensor;
  std::optional<int64_t> from_ms, to_ms;
  int removed = 0;
  // At most kMaxBaselinePoints, at least kMinBaselinePoints of them finite; NaN: a gap.
  std::vector<double> values;
  int64_t created_by = 0;
};

// A sensor's baseline from some time on.
struct SensorBaseline {
  int64_t id = 0;
  int64_t sensor_id = 0;
  std::string at;
  std::string action;  // set | select | augment
  int64_t baseline_id = 0;
  std::string baseline;  // the library entry's name then (empty: none, e.g. an augmentation of
                         // a learned one)
  int64_t by_user = 0;   // 0: the schedule
  int64_t points = 0;
  double mean = 0, std = 0;
  std::vector<double> values;  // filled when asked for
  std::string details = "{}";  // JSON object text
};

class BaselineStore {
 public:
  explicit BaselineStore(store::Database& db) : db_(db) {}

  Expected<Baseline> create(const NewBaseline& b);
  // Creates it unless one with the name exists (a seed at start): true when created.
  Expected<bool> create_if_absent(const NewBaseline& b);
  Expected<Baseline> get(std::string_view name, bool with_values);
  // By name, after_id paging; without values.
  Expected<std::vector<Baseline>> list(int limit, int64_t after_id = 0);
  // The whole library with values (selection), at most `max` entries.
  Expected<std::vector<Baseline>> all(size_t max);
  Status remove(std::string_view name);

  Expected<SensorBaseline> set_for(int64_t sensor_id, const SensorBaseline& b);
  Expected<std::optional<SensorBaseline>> current(int64_t sensor_id, bool with_values);
  // Newest first, without values.
  Expected<std::vector<SensorBaseline>> history(int64_t sensor_id, int limit);

  // Checks values against the limits (kInvalidArgument naming `field`): no infinity.
  static Status check_values(std::span<const double> values, std::string_view field = "values");

 private:
  store::Database& db_;
};

}  // namespace vigil::telemetry
