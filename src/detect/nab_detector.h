// A streaming anomaly detector for one series, shaped for the Numenta Anomaly Benchmark (NAB):
// fed one value at a time, it answers that value's anomaly score in [0, 1] at once, from the
// past and from what NAB's harness hands every detector before the stream starts (the series'
// min and max, and the probationary length: min(floor(0.15 n), 750) rows, which are not scored).
//
// Evidence, each value first scaled to [0, 1] by the given min and max:
// - novelty: the left matrix profile (IncrementalProfile, plain Euclidean) of the window ending
//   at the value, as an RMS distance per point to the nearest earlier window, divided by the
//   largest such distance seen so far (learned from `learn_from` of the probationary period on,
//   decaying slowly; with a margin while it has learned from few distances). Above 1 the window
//   is further from the past than anything before it; a pattern once seen raises the peak, so
//   its repeats score low.
// - a break of the running range: a value beyond the smallest/largest seen so far by more than
//   `range_tolerance` of that range (NAB's "spatial anomaly") scores 1. The tolerance is wider
//   while the range is young (`young_break`) and within the refractory period (`repeat_break`).
// The output is event-like: 0 most of the time; when the novelty crosses `trigger`, a score
// that grows with it (0.5 at the trigger, below 1); then, for a refractory period, only
// stronger novelty than the last alarm's scores again. NAB counts one detection per labelled
// window (the earliest) and charges every detection outside one.
//
// Not thread-safe: one object per stream.
#pragma once

#include <cstdint>

#include "detect/incremental_profile.h"

namespace vigil::detect {

// What the harness knows before the stream starts.
struct NabSeries {
  double min = 0;
  double max = 0;
  int64_t probation = 0;  // rows before the first scored one
};

// The tunables; the defaults are the ones tuned on NAB's 58 series (bench/README.md, NAB).
// Lengths are fractions of the probationary length, so they follow the series' sampling.
struct NabParams {
  double window = 0.1;  // matrix-profile window (at least min_window points)
  int min_window = 6;
  int history = 4096;             // points the profile searches back
  double learn_from = 0.85;       // the peak distance is learned from here on
  double peak_decay = 2e-4;       // per point
  double trigger = 1.0;           // novelty (distance / peak) that raises an alarm
  double refractory = 0.5;        // after an alarm, only stronger novelty scores
  double range_tolerance = 0.02;  // of the running range
  double min_distance = 0.002;    // floor of the peak, in units of the series' range
  // Novelty is measured against peak * (1 + young_margin * probation / distances learned).
  double young_margin = 0.02;
  // A range break is measured against range_tolerance * (1 + young_break * probation / points
  // seen): a range learned from few points is broken often by values that are normal.
  double young_break = 1;
  // Within the refractory period a range break needs repeat_break times that tolerance: one
  // anomaly (or a trend) extending the range point by point is one alarm, not many.
  double repeat_break = 2;
};

// The probationary length NAB's harness uses for a series of `rows` rows.
int64_t nab_probation(int64_t rows);

class NabDetector {
 public:
  // Throws std::invalid_argument when series.probation < 0 or a parameter is out of range
  // (window, refractory, learn_from or trigger <= 0, peak_decay outside [0, 1), young_break < 0,
  // repeat_break < 1).
  explicit NabDetector(const NabSeries& series, const NabParams& params = {});

  // Consumes the next value and returns its score in [0, 1]. A NaN/inf value scores 0 (and
  // voids the windows that hold it); so does every value when max <= min.
  double push(double value);

  int64_t points() const { return points_; }
  int window() const { return profile_.window(); }

 private:
  double novelty(double x);

  NabSeries series_;
  NabParams p_;
  double range_;
  int64_t learn_from_, refractory_;
  IncrementalProfile profile_;
  int64_t points_ = 0;
  double peak_ = 0;
  int64_t learned_ = 0;     // distances the peak has learned from
  double lo_ = 0, hi_ = 0;  // the running range, scaled
  bool have_range_ = false;
  int64_t last_alarm_ = -1;
  double last_novelty_ = 0;
};

}  // namespace vigil::detect
