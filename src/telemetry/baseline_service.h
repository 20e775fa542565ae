// BaselineService: the baseline library and each sensor's baseline (API.md "Telemetry and
// anomaly detection", PRODUCT.md slice 4), on BaselineStore with detect/baselines.h's rules.
// - Library: upload values, or cut a sensor's stored history (cleaned of its top discords unless
//   asked not to); list, read, delete; seeded at start from the leak sensors (seed()).
// - A sensor's baseline: set one from the library, select the best now (the sensor's cleaned
//   recent history replayed under each library entry; those that would warn skipped; closest mean
//   and spread wins), augment (the current baseline followed by the cleaned history since the
//   last augmentation, the newest kMaxBaselinePoints kept). Each change is a history row and is
//   told to `noted` (a system event) and to TelemetryService::changed (live detection starts the
//   sensor over with it).
// - start(): selection every select_every and augmentation every augment_every for every sensor
//   (0: never), on a thread of its own at low priority; stop() joins it.
//
// Thread-safe; methods block on the store and on the profile computations (hundreds of ms for a
// big library). Errors: as BaselineStore's; kNotFound for an unknown sensor or baseline;
// kConflict when a sensor's history is too short to select or augment.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "detect/baselines.h"
#include "telemetry/baseline_store.h"
#include "telemetry/telemetry_service.h"

namespace vigil::telemetry {

struct BaselineOptions {
  std::chrono::milliseconds select_every{0};   // 0: no scheduled selection
  std::chrono::milliseconds augment_every{0};  // 0: no scheduled augmentation
  size_t history_points = 2016;                // recent history selection replays (2 weeks)
  int discords = 3;                            // cleaned out of history and cut baselines
  size_t max_library = 1000;                   // entries selection looks at
};

struct CutRequest {
  std::string name;
  std::string sensor;
  int64_t from_ms = 0, to_ms = 0;
  bool clean = true;
  int64_t by_user = 0;
};

class BaselineService {
 public:
  BaselineService(TelemetryService& telemetry, BaselineStore& store, BaselineOptions options);
  ~BaselineService();  // stop()
  BaselineService(const BaselineService&) = delete;
  BaselineService& operator=(const BaselineService&) = delete;

  // After each change of a sensor's baseline (its new history row), on the changing thread.
  std::function<void(const Sensor&, const SensorBaseline&)> noted;

  BaselineStore& store() { return store_; }

  Expected<Baseline> upload(const std::string& name, std::vector<double> values, int64_t by_user);
  Expected<Baseline> cut(const CutRequest& request);
  // Adds the embedded seeds that are not in the library yet (by name); returns how many.
  Expected<int> seed();

  struct SensorView {
    Sensor sensor;
    std::optional<SensorBaseline> current;
    std::vector<SensorBaseline> history;  // newest first
  };
  Expected<SensorView> of(std::string_view sensor, int history_limit = 50);
  Expected<SensorBaseline> set(std::string_view sensor, std::string_view baseline, int64_t by_user);

  struct Selected {
    std::optional<SensorBaseline> chosen;  // none: no candidate fits (the current one stays)
    struct Entry {
      std::string name;
      detect::Verdict verdict;
    };
    std::vector<Entry> candidates;
    size_t history_points = 0;  // after cleaning
    int removed = 0;            // discord windows cleaned out of the history
  };
  Expected<Selected> select(std::string_view sensor, int64_t by_user);
  Expected<SensorBaseline> augment(std::string_view sensor, int64_t by_user);

  // One scheduled pass over every sensor (what the thread runs; tests call it directly).
  void run_schedule(bool selection, bool augmentation);
  void start();
  void stop();

 private:
  Expected<std::vector<double>> cleaned_history(const Sensor& sensor, int64_t after_ms,
                                                int& removed, int64_t& last_ms);
  Expected<SensorBaseline> record(const Sensor& sensor, SensorBaseline row);

  TelemetryService& telemetry_;
  BaselineStore& store_;
  BaselineOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace vigil::telemetry
