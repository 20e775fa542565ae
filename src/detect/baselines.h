// Baselines (PRODUCT.md slice 4): what a sensor's levels are measured against is a "normal"
// series. These are the library's rules, pure computation with no I/O:
// - clean(): a series without its top discords — the windows farthest from any other window of
//   it (a leak, a spike) — so that history can serve as a baseline. The discords' points become
//   NaN gaps rather than being cut out: a window holding a gap never matches and never counts
//   (detect/matrix_profile.h), whereas joining the pieces would make new, artificial windows
//   across each cut that look like discords themselves;
// - select(): of a library's candidates, the one a sensor's cleaned history fits best: each
//   candidate is replayed with that history (the candidate as the baseline, then the history
//   judged point by point with the sensor's settings, but for the windows that straddle the
//   junction); a candidate under which some point would warn is skipped; of the rest, the closest
//   in mean and variance to the history wins;
// - augment(): a baseline extended with cleaned recent history (the newest max_points kept), so
//   it follows a sensor's slow drift.
//
// Every function may run on any thread; none throws for data (a too-short series yields an
// empty result or a rejection with the reason).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "detect/level_detector.h"

namespace vigil::detect {

struct Moments {
  double mean = 0;
  double std = 0;  // population standard deviation
  size_t count = 0;
};
// Of the finite values.
Moments moments(std::span<const double> values);

struct Cleaned {
  std::vector<double> values;  // as long as the series
  int removed = 0;             // discord windows turned into gaps
};
// The series with its `discords` top discords' windows (settings.window points each, by the
// settings' profile) turned into NaN. A series too short for a profile comes back as it was.
Cleaned clean(std::span<const double> series, const LevelSettings& settings, int discords = 3);

struct Candidate {
  std::span<const double> values;
};
struct Verdict {
  bool fits = false;
  std::string why;         // when it does not fit
  double max_percent = 0;  // the highest percent the history reached under it
  double distance = 0;     // in mean and variance from the history (smaller is closer)
};
struct Selection {
  std::optional<size_t> best;     // index into the candidates; none when none fits
  std::vector<Verdict> verdicts;  // one per candidate
};
// `history`: the sensor's recent history, cleaned. Needs at least 2 windows of it.
Selection select(std::span<const double> history, std::span<const Candidate> candidates,
                 const LevelSettings& settings);

// The baseline followed by the history, the newest max_points of them.
std::vector<double> augment(std::span<const double> baseline, std::span<const double> history,
                            size_t max_points);

}  // namespace vigil::detect
