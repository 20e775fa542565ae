#include "detect/nab_detector.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace vigil::detect {
namespace {

const NabParams& checked(const NabParams& p) {
  if (!(p.window > 0) || !(p.refractory > 0) || !(p.learn_from > 0) || !(p.trigger > 0) ||
      !(p.peak_decay >= 0 && p.peak_decay < 1) || p.min_window < 3 || !(p.range_tolerance >= 0) ||
      !(p.min_distance > 0) || !(p.young_break >= 0) || !(p.repeat_break >= 1)) {
    throw std::invalid_argument("NabDetector: a parameter is out of range");
  }
  return p;
}

int64_t fraction_of(double f, int64_t probation) {
  return static_cast<int64_t>(std::llround(f * static_cast<double>(probation)));
}

IncrementalOptions profile_options(const NabSeries& s, const NabParams& p) {
  if (s.probation < 0) throw std::invalid_argument("NabDetector: probation < 0");
  const int m =
      static_cast<int>(std::max<int64_t>(p.min_window, fraction_of(p.window, s.probation)));
  return {.window = m, .history = std::max(p.history, 3 * m + 2), .exclusion = std::nullopt};
}

}  // namespace

int64_t nab_probation(int64_t rows) {
  // NAB: min(floor(0.15 * rows), 0.15 * 5000).
  return std::min<int64_t>(static_cast<int64_t>(std::floor(0.15 * static_cast<double>(rows))), 750);
}

NabDetector::NabDetector(const NabSeries& series, const NabParams& params)
    : series_(series),
      p_(checked(params)),
      range_(series.max - series.min),
      learn_from_(fraction_of(params.learn_from, series.probation)),
      refractory_(fraction_of(params.refractory, series.probation)),
      profile_(profile_options(series, params)) {}

double NabDetector::novelty(double x) {
  double d = profile_.push(x);
  if (!std::isfinite(d) || points_ - 1 < learn_from_) return 0;
  d /= std::sqrt(static_cast<double>(profile_.window()));
  // A peak learned from few distances underestimates the largest normal data reaches: demand a
  // margin that shrinks as it learns.
  const double margin = 1 + p_.young_margin *
                                static_cast<double>(std::max<int64_t>(series_.probation, 1)) /
                                static_cast<double>(++learned_);
  const double n = peak_ > 0 ? d / (std::max(peak_, p_.min_distance) * margin) : 0;
  peak_ = std::max(peak_ * (1 - p_.peak_decay), d);
  return n;
}

double NabDetector::push(double value) {
  const int64_t i = points_++;
  if (!(range_ > 0) || !std::isfinite(value)) {
    profile_.push(value);
    return 0;
  }
  const double x = (value - series_.min) / range_;
  const double n = novelty(x);
  bool broke = false;
  if (have_range_) {
    const bool refractory = last_alarm_ >= 0 && i - last_alarm_ <= refractory_;
    const double young = static_cast<double>(series_.probation) / static_cast<double>(i + 1);
    const double tolerance = (hi_ - lo_) * p_.range_tolerance * (1 + p_.young_break * young) *
                             (refractory ? p_.repeat_break : 1);
    broke = hi_ > lo_ && (x > hi_ + tolerance || x < lo_ - tolerance);
    lo_ = std::min(lo_, x);
    hi_ = std::max(hi_, x);
  } else {
    lo_ = hi_ = x;
    have_range_ = true;
  }
  if (i < series_.probation) return 0;
  if (last_alarm_ >= 0 && i - last_alarm_ > refractory_) last_alarm_ = -1;
  if (broke) {
    last_novelty_ = last_alarm_ >= 0 ? std::max(last_novelty_, n) : n;
    last_alarm_ = i;
    return 1;
  }
  if (n < p_.trigger || (last_alarm_ >= 0 && n <= last_novelty_)) return 0;
  last_alarm_ = i;
  last_novelty_ = n;
  // Monotone in the novelty: 0.5 at the trigger, towards 1 (never 1: that is a range break).
  return std::min(0.999, 1 - 0.5 * std::exp(-(n - p_.trigger) / p_.trigger));
}

}  // namespace vigil::detect
