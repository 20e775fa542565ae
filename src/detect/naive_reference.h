// Test-only: the matrix profile straight from its definition, O(n^2 m) in long double, for the
// unit tests to compare the kernels with. Not part of the library.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "detect/matrix_profile.h"

namespace vigil::detect::naive {

// The distance between window i of a and window j of b (matrix_profile.h's definitions); NaN
// when either holds a NaN or an inf.
inline double distance(std::span<const double> a, int64_t i, std::span<const double> b, int64_t j,
                       int m, bool normalize) {
  bool a_const = true, b_const = true;
  for (int k = 0; k < m; ++k) {
    if (!std::isfinite(a[i + k]) || !std::isfinite(b[j + k])) {
      return std::numeric_limits<double>::quiet_NaN();
    }
    a_const = a_const && a[i + k] == a[i];
    b_const = b_const && b[j + k] == b[j];
  }
  long double sum = 0;
  if (!normalize) {
    for (int k = 0; k < m; ++k) {
      const long double d = static_cast<long double>(a[i + k]) - b[j + k];
      sum += d * d;
    }
    return static_cast<double>(std::sqrt(sum));
  }
  if (a_const && b_const) return 0.0;
  if (a_const || b_const) return std::sqrt(static_cast<double>(m));
  long double ma = 0, mb = 0;
  for (int k = 0; k < m; ++k) {
    ma += a[i + k];
    mb += b[j + k];
  }
  ma /= m;
  mb /= m;
  long double sa = 0, sb = 0;
  for (int k = 0; k < m; ++k) {
    sa += (a[i + k] - ma) * (a[i + k] - ma);
    sb += (b[j + k] - mb) * (b[j + k] - mb);
  }
  sa = std::sqrt(sa / m);
  sb = std::sqrt(sb / m);
  for (int k = 0; k < m; ++k) {
    const long double d = (a[i + k] - ma) / sa - (b[j + k] - mb) / sb;
    sum += d * d;
  }
  return static_cast<double>(std::sqrt(sum));
}

// Window i's nearest neighbour among windows j of b in [lo, hi] with allowed(j).
template <typename Allowed>
inline void nearest(std::span<const double> a, int64_t i, std::span<const double> b, int m,
                    bool normalize, Allowed allowed, double& best, int64_t& best_j) {
  best = std::numeric_limits<double>::infinity();
  best_j = -1;
  const int64_t count = static_cast<int64_t>(b.size()) - m + 1;
  for (int64_t j = 0; j < count; ++j) {
    if (!allowed(j)) continue;
    const double d = distance(a, i, b, j, m, normalize);
    if (d < best) {
      best = d;
      best_j = j;
    }
  }
  if (std::isnan(distance(a, i, a, i, m, false))) {
    best = std::numeric_limits<double>::infinity();
    best_j = -1;
  }
}

template <typename Allowed>
inline MatrixProfile profile(std::span<const double> a, std::span<const double> b, int m,
                             bool normalize, Allowed allowed) {
  MatrixProfile p;
  const int64_t count = static_cast<int64_t>(a.size()) - m + 1;
  p.distance.resize(count);
  p.index.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    nearest(
        a, i, b, m, normalize, [&](int64_t j) { return allowed(i, j); }, p.distance[i], p.index[i]);
  }
  return p;
}

inline MatrixProfile self_join(std::span<const double> t, int m, int exclusion, bool normalize) {
  return profile(t, t, m, normalize,
                 [&](int64_t i, int64_t j) { return std::abs(i - j) > exclusion; });
}

inline MatrixProfile ab_join(std::span<const double> a, std::span<const double> b, int m,
                             bool normalize) {
  return profile(a, b, m, normalize, [](int64_t, int64_t) { return true; });
}

// history 0: unbounded.
inline MatrixProfile left_profile(std::span<const double> t, int m, int exclusion, bool normalize,
                                  int64_t history) {
  return profile(t, t, m, normalize, [&](int64_t i, int64_t j) {
    return i - j > exclusion && (history == 0 || j >= i + m - history);
  });
}

}  // namespace vigil::detect::naive
