// Test-only: the series the detect tests run on.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "detect/matrix_profile.h"
#include "detect/naive_reference.h"

namespace vigil::detect::testing {

inline std::vector<double> random_walk(int64_t n, uint64_t seed, double offset = 0,
                                       double scale = 1) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> step(0.0, 1.0);
  std::vector<double> t(n);
  double x = 0;
  for (auto& v : t) {
    x += step(rng);
    v = offset + scale * x;
  }
  return t;
}

inline std::vector<double> noise(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> t(n);
  for (auto& v : t) v = u(rng);
  return t;
}

// Compares `got` with the naive `want` entry by entry: the same +inf/-1 entries, distances within
// tol (relative above 1), and got's index a permitted neighbour at the distance reported (ties
// may pick another index than the naive loop).
template <typename Allowed>
::testing::AssertionResult same_profile(const MatrixProfile& got, const MatrixProfile& want,
                                        std::span<const double> a, std::span<const double> b, int m,
                                        bool normalize, Allowed allowed, double tol = 1e-6) {
  if (got.distance.size() != want.distance.size() || got.index.size() != want.index.size()) {
    return ::testing::AssertionFailure()
           << "sizes " << got.distance.size() << " vs " << want.distance.size();
  }
  for (size_t i = 0; i < want.distance.size(); ++i) {
    const double w = want.distance[i], g = got.distance[i];
    const int64_t gi = got.index[i];
    auto fail = [&](const std::string& what) {
      return ::testing::AssertionFailure()
             << "window " << i << ": " << what << " (got " << g << " at " << gi << ", want " << w
             << " at " << want.index[i] << ")";
    };
    if (std::isinf(w)) {
      if (!std::isinf(g) || gi != -1) return fail("want +inf and -1");
      continue;
    }
    const double limit = tol * std::max(1.0, w);
    if (!(std::abs(g - w) <= limit)) return fail("distance off by " + std::to_string(g - w));
    if (gi < 0 || !allowed(static_cast<int64_t>(i), gi)) return fail("index not allowed");
    const double at = naive::distance(a, static_cast<int64_t>(i), b, gi, m, normalize);
    if (!(std::abs(at - g) <= limit)) return fail("distance at index is " + std::to_string(at));
  }
  return ::testing::AssertionSuccess();
}

}  // namespace vigil::detect::testing
