#include "detect/level_detector.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "detect/matrix_profile.h"

namespace vigil::detect {
namespace {

IncrementalOptions profile_options(const LevelSettings& s) {
  return {
      .window = s.window, .history = s.history, .exclusion = s.exclusion, .normalize = s.normalize};
}

}  // namespace

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kOk: return "ok";
    case Level::kWarning: return "warning";
    case Level::kCritical: return "critical";
    case Level::kUndefined: break;
  }
  return "undefined";
}

std::optional<double> profile_max(std::span<const double> series, const LevelSettings& s) {
  if (series.size() < static_cast<size_t>(s.window) + 1) return std::nullopt;
  Options o{.normalize = s.normalize, .exclusion = s.exclusion, .threads = 1};
  MatrixProfile mp;
  try {
    mp = self_join(series, s.window, o);
  } catch (const std::invalid_argument&) {
    return std::nullopt;  // too short for a window outside the exclusion zone
  }
  std::optional<double> best;
  for (double d : mp.distance) {
    if (std::isfinite(d) && (!best || d > *best)) best = d;
  }
  return best;
}

LevelDetector::LevelDetector(const LevelSettings& settings, std::span<const double> baseline)
    : settings_(settings), profile_(profile_options(settings)) {
  if (baseline.empty()) {
    learning_ = true;
    learned_.reserve(static_cast<size_t>(settings.learn_points));
  } else {
    set_baseline(baseline);
    // The stream starts from the baseline: its last points are the first history.
    const size_t keep = std::min(baseline.size(), static_cast<size_t>(settings.history));
    for (double v : baseline.subspan(baseline.size() - keep)) profile_.push(v);
  }
}

void LevelDetector::set_baseline(std::span<const double> baseline) {
  baseline_max_ = profile_max(baseline, settings_);
  if (baseline_max_ && *baseline_max_ <= 0) baseline_max_.reset();  // a flat baseline: no scale
}

Judged LevelDetector::push(double value) {
  Judged j;
  if (learning_) {
    // The learned points are the stream's own history already: only the maximum is computed.
    j.distance = profile_.push(value);
    learned_.push_back(value);
    if (learned_.size() >= static_cast<size_t>(settings_.learn_points)) {
      set_baseline(learned_);
      learned_.clear();
      // A flat stretch (a sensor reading 0 for days) gives no scale: learn on from the next.
      learning_ = !baseline_max_;
    }
    j.percent = std::numeric_limits<double>::quiet_NaN();
  } else {
    j.distance = profile_.push(value);
    if (baseline_max_ && std::isfinite(j.distance)) {
      j.percent = 100.0 * j.distance / *baseline_max_;
      j.level = j.percent < settings_.warn_percent       ? Level::kOk
                : j.percent < settings_.critical_percent ? Level::kWarning
                                                         : Level::kCritical;
    } else {
      j.percent = std::numeric_limits<double>::quiet_NaN();
    }
  }
  j.changed = j.level != level_;
  level_ = j.level;
  return j;
}

}  // namespace vigil::detect
