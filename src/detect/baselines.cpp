#include "detect/baselines.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "detect/matrix_profile.h"

namespace vigil::detect {

Moments moments(std::span<const double> values) {
  Moments m;
  double sum = 0;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    sum += v;
    ++m.count;
  }
  if (m.count == 0) return m;
  m.mean = sum / static_cast<double>(m.count);
  double sq = 0;
  for (double v : values) {
    if (std::isfinite(v)) sq += (v - m.mean) * (v - m.mean);
  }
  m.std = std::sqrt(sq / static_cast<double>(m.count));
  return m;
}

Cleaned clean(std::span<const double> series, const LevelSettings& settings, int discords) {
  Cleaned out;
  const int m = settings.window;
  const int exclusion = settings.exclusion.value_or(m / 2);
  std::vector<Discord> found;
  if (discords > 0 && series.size() >= static_cast<size_t>(2 * m + exclusion + 2)) {
    try {
      MatrixProfile mp =
          self_join(series, m,
                    Options{.normalize = settings.normalize, .exclusion = exclusion, .threads = 1});
      found = top_discords(mp, discords, exclusion);
    } catch (const std::invalid_argument&) {
      found.clear();
    }
  }
  out.values.assign(series.begin(), series.end());
  for (const Discord& d : found) {
    for (int64_t i = d.index; i < d.index + m && i < static_cast<int64_t>(series.size()); ++i) {
      out.values[static_cast<size_t>(i)] = std::numeric_limits<double>::quiet_NaN();
    }
  }
  out.removed = static_cast<int>(found.size());
  return out;
}

Selection select(std::span<const double> history, std::span<const Candidate> candidates,
                 const LevelSettings& settings) {
  Selection out;
  const Moments h = moments(history);
  const double scale = h.std > 0 ? h.std : std::max(std::abs(h.mean), 1.0);
  std::optional<double> best_distance;
  for (size_t c = 0; c < candidates.size(); ++c) {
    Verdict v;
    const auto values = candidates[c].values;
    const Moments cm = moments(values);
    v.distance = std::hypot((cm.mean - h.mean) / scale, (cm.std - h.std) / scale);
    if (!profile_max(values, settings)) {
      v.why = "too short or flat for a profile with window " + std::to_string(settings.window);
    } else if (history.size() < static_cast<size_t>(2 * settings.window)) {
      v.why = "the sensor's history is shorter than two windows";
    } else {
      LevelDetector d(settings, values);
      Level worst = Level::kUndefined;
      // The windows that straddle the junction of candidate and history are no data's: the
      // first window - 1 points are pushed, not judged.
      for (size_t i = 0; i < history.size(); ++i) {
        const Judged j = d.push(history[i]);
        if (i + 1 < static_cast<size_t>(settings.window)) continue;
        if (std::isfinite(j.percent)) v.max_percent = std::max(v.max_percent, j.percent);
        if (j.level > worst) worst = j.level;
      }
      if (worst >= Level::kWarning) {
        v.why = "the history would warn under it (up to " +
                std::to_string(static_cast<int>(std::lround(v.max_percent))) + " %)";
      } else if (worst == Level::kUndefined) {
        v.why = "it judged none of the history";
      } else {
        v.fits = true;
        if (!best_distance || v.distance < *best_distance) {
          best_distance = v.distance;
          out.best = c;
        }
      }
    }
    out.verdicts.push_back(std::move(v));
  }
  return out;
}

std::vector<double> augment(std::span<const double> baseline, std::span<const double> history,
                            size_t max_points) {
  std::vector<double> out(baseline.begin(), baseline.end());
  out.insert(out.end(), history.begin(), history.end());
  if (out.size() > max_points)
    out.erase(out.begin(), out.end() - static_cast<ptrdiff_t>(max_points));
  return out;
}

}  // namespace vigil::detect
