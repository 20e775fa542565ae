// The left matrix profile of a stream, one point at a time: each new point completes a window
// of the last `window` points, and push() returns that window's distance to its nearest earlier
// window within the bounded history (STUMPY's stumpi / aampi with egress). O(history) per point,
// in a tight vectorised loop: the running squared distances (or centred dot products, when
// z-normalised) of the newest window against every earlier one are kept per lag and each
// updated in O(1).
//
// Matches left_profile(series, window, {normalize, exclusion}, history) over the same points to
// about 1e-9 (rounding only): the candidates for the window starting at s are the windows i with
// s - i > exclusion that lie within the last `history` points (i >= s + window - history).
// Distances, NaN/inf and constant windows as in matrix_profile.h. Values are shifted by the
// first finite value pushed, so a large offset costs no precision; each lag is recomputed exactly
// once every (history - window - exclusion) points, so rounding does not build up over a long
// stream (the limit after a sharp drop of scale, matrix_profile.h, lasts until then here).
//
// State: about 8 * (2 * history) bytes non-normalised (the history and one sum per lag),
// 6x that z-normalised. Not thread-safe: one object per stream, used by one thread at a time
// (different objects on different threads are fine).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "detect/windows.h"

namespace vigil::detect {

struct IncrementalOptions {
  int window = 144;
  int history = 2048;            // points kept, the new one included; > window + exclusion
  std::optional<int> exclusion;  // default window / 2
  bool normalize = false;
};

class IncrementalProfile {
 public:
  // Throws std::invalid_argument for window < 3 or history <= window + exclusion or a negative
  // exclusion.
  explicit IncrementalProfile(const IncrementalOptions& options = {});

  // Appends one point; returns the left-profile distance of the window it completes: +inf while
  // fewer than `window` points have come, when that window holds a NaN/inf, or when no valid
  // earlier window lies outside the exclusion zone yet.
  double push(double value);
  // push() for each value in turn; out[i] gets the i-th result. out.size() must equal
  // values.size() (std::invalid_argument otherwise).
  void push(std::span<const double> values, std::span<double> out);

  int64_t points() const { return points_; }
  int window() const { return m_; }
  int history() const { return h_; }
  int exclusion() const { return e_; }
  // Bytes held by this object's buffers.
  size_t state_bytes() const;

 private:
  void compact();
  double exact(int64_t a, int64_t b) const;  // windows at buffer positions a and b
  double push_euclid(int64_t s, int64_t j_lo, int64_t j_prev);
  double push_pearson(int64_t s, int64_t j_lo, int64_t j_prev);
  double min_valid(int64_t s, int64_t j_lo) const;

  int m_, h_, e_;
  bool normalize_;
  int64_t l_max_;  // largest lag: history - window
  int64_t lags_;   // lags exclusion + 1 .. l_max_, stored at j = l_max_ - lag
  int64_t points_ = 0;
  int64_t start_ = 0;  // absolute index of buf_[0]
  int64_t size_ = 0;   // points in buf_
  double center_ = 0;
  bool have_center_ = false;
  int64_t refresh_ = 0;      // the next lag (as j) to recompute exactly
  std::vector<double> buf_;  // centred points, non-finite ones as 0
  std::vector<double> acc_;  // per lag: squared distance, or centred dot product
  std::deque<int64_t> bad_;  // absolute indices of the non-finite points still in the history
  // z-normalised only, per window start in buf_: mean, centred-update terms, 1/norm (NaN: never
  // matches), and whether it is constant; the newest window's running sums; the current run of
  // equal values.
  std::vector<double> mu_, df_, dg_, inv_;
  std::vector<uint8_t> constant_;
  detail::SlidingStats stats_;
  int64_t run_ = 0;
  double last_raw_ = 0;
};

}  // namespace vigil::detect
