// LevelDetector: the anomaly level of each new point of one sensor, as PRODUCT.md slice 4 (the
// leak-detection rule) says: an incremental matrix profile (window 144, exclusion 72, not
// z-normalised by default) over the stream; the newest window's distance to its nearest earlier
// window, relative to the baseline's maximum, in percent, gives the level — below warn_percent
// (100) ok, below critical_percent (200) warning, from there critical. A level is "undefined"
// while there is no baseline, while the newest window is incomplete or holds a NaN/inf, and when
// no earlier window can be compared yet.
//
// The baseline is a normal series: its maximum is the largest finite value of its own matrix
// profile (self-join with the same window, exclusion and normalisation), and the stream starts
// from it (the baseline's points are the first history the new points are compared with). Without
// one, the detector learns it: the first `learn_points` points of the stream become the baseline
// (their levels are undefined); when they are flat (no profile value above 0: a sensor that read
// 0 for days), the next `learn_points` are tried, and so on.
//
// Pure computation, no I/O; not thread-safe (one object per sensor, one thread at a time).
// Throws std::invalid_argument for settings the profile refuses (window < 3, history too short).
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "detect/incremental_profile.h"

namespace vigil::detect {

enum class Level { kUndefined, kOk, kWarning, kCritical };
std::string_view level_name(Level level);  // "undefined", "ok", "warning", "critical"

struct LevelSettings {
  int window = 144;
  std::optional<int> exclusion;  // default window / 2
  double warn_percent = 100;
  double critical_percent = 200;
  bool normalize = false;
  int history = 2048;      // points the profile keeps (the new one included)
  int learn_points = 576;  // without a baseline: the first this many points become it
};

struct Judged {
  double distance = 0;  // the newest window's left-profile value (+inf: none)
  double percent = 0;   // of the baseline's maximum (NaN when undefined)
  Level level = Level::kUndefined;
  bool changed = false;  // the level differs from the previous point's
};

class LevelDetector {
 public:
  // `baseline` empty: learn one from the stream.
  explicit LevelDetector(const LevelSettings& settings, std::span<const double> baseline = {});

  Judged push(double value);

  // The baseline's maximum profile value; nullopt while learning (or when the baseline had no
  // finite profile value: then every level is undefined).
  std::optional<double> baseline_max() const { return baseline_max_; }
  Level level() const { return level_; }

 private:
  void set_baseline(std::span<const double> baseline);

  LevelSettings settings_;
  IncrementalProfile profile_;
  std::optional<double> baseline_max_;
  bool learning_ = false;
  std::vector<double> learned_;
  Level level_ = Level::kUndefined;
};

// The maximum finite value of the series' matrix profile (self-join); nullopt when it has none
// (too short, or every window holds a NaN).
std::optional<double> profile_max(std::span<const double> series, const LevelSettings& settings);

}  // namespace vigil::detect
