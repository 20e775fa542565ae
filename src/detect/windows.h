// Internal to src/detect: a series cut into windows of m points, with what the kernels need
// (kernels.h WindowsView) and what the constant-window rule needs (kinds).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "detect/kernels.h"

namespace vigil::detect::detail {

enum class WindowKind : uint8_t {
  kRegular,   // finite and not constant
  kConstant,  // finite, every point equal
  kInvalid,   // holds a NaN or an inf
};

struct Windows {
  int m = 0;
  int64_t n = 0;
  int64_t count = 0;  // n - m + 1
  std::vector<double> t, mu, df, dg, inv_norm, penalty;
  std::vector<WindowKind> kind;

  WindowsView view() const;
};

// The mean and centred sum of squares of the windows of a series, one window after the other:
// slid in O(1), recomputed exactly every 64 windows and whenever a large value leaving the
// window leaves the slide's rounding above what remains.
struct SlidingStats {
  double mu = 0;
  double m2 = 0;
  // Moves to window w[0 .. m) (number `index` of the series); slides from the previous window
  // (w[-1] left it) unless index is 0 or a multiple of 64.
  void next(const double* w, int m, int64_t index);
};

// The mean of the finite values of a and b (0 if there are none): the series are shifted by it
// before anything else, so a large common offset (1e12) costs no precision.
double finite_center(std::span<const double> a, std::span<const double> b = {});

// Cuts `values` (already validated: 3 <= m <= size) into windows. pearson: means, norms and the
// centred-update terms; otherwise penalties only.
Windows prepare_windows(std::span<const double> values, int m, double center, bool pearson);

}  // namespace vigil::detect::detail
