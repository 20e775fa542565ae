#include "detect/incremental_profile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "detect/kernels.h"
#include "detect/matrix_profile.h"
#include "detect/naive_reference.h"
#include "detect/test_series.h"

namespace vigil::detect {
namespace {
using testing::noise;
using testing::random_walk;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> stream(IncrementalProfile& p, const std::vector<double>& t) {
  std::vector<double> out(t.size());
  p.push(t, out);
  return out;
}

// out[k] is the left-profile value of the window ending at point k (+inf before the first).
void expect_left_profile(const std::vector<double>& got, const MatrixProfile& want, int m,
                         double tol = 1e-6) {
  ASSERT_EQ(got.size(), want.distance.size() + m - 1);
  for (int k = 0; k < m - 1; ++k) EXPECT_TRUE(std::isinf(got[k])) << k;
  int failures = 0;
  for (size_t s = 0; s < want.distance.size() && failures < 5; ++s) {
    const double g = got[s + m - 1], w = want.distance[s];
    if (std::isinf(w)) {
      failures += !std::isinf(g);
      EXPECT_TRUE(std::isinf(g)) << "window " << s << " got " << g;
    } else {
      failures += !(std::abs(g - w) <= tol * std::max(1.0, w));
      EXPECT_NEAR(g, w, tol * std::max(1.0, w)) << "window " << s;
    }
  }
}

class IncrementalProfileTest : public ::testing::TestWithParam<const detail::Kernels*> {
 protected:
  void SetUp() override { detail::force_kernels(GetParam()); }
  void TearDown() override { detail::force_kernels(nullptr); }
};

TEST_P(IncrementalProfileTest, MatchesTheNaiveLeftProfileOverABoundedHistory) {
  auto t = random_walk(900, 21);
  for (bool normalize : {true, false}) {
    IncrementalProfile p({.window = 16, .history = 120, .normalize = normalize});
    expect_left_profile(stream(p, t), naive::left_profile(t, 16, 8, normalize, 120), 16);
  }
}

// Many times the history, so every lag is recomputed many times and the buffer moves back often.
TEST_P(IncrementalProfileTest, MatchesTheBatchLeftProfileOverALongStreamWithEgress) {
  auto t = random_walk(30000, 22, 250.0);
  for (bool normalize : {true, false}) {
    IncrementalProfile p({.window = 24, .history = 300, .exclusion = 12, .normalize = normalize});
    const auto got = stream(p, t);
    expect_left_profile(got, left_profile(t, 24, {.normalize = normalize, .exclusion = 12}, 300),
                        24);
    EXPECT_EQ(p.points(), 30000);
  }
}

TEST_P(IncrementalProfileTest, NanGapsConstantsAndHugeOffsets) {
  auto t = noise(1500, 23);
  for (int i = 200; i < 205; ++i) t[i] = kNaN;
  t[700] = std::numeric_limits<double>::infinity();
  for (int i = 900; i < 960; ++i) t[i] = 3.0;
  for (int i = 1100; i < 1130; ++i) t[i] = 3.0;
  for (double offset : {0.0, 1e12}) {
    auto u = t;
    for (auto& v : u) v += offset;
    u[0] = kNaN;  // the shift comes from the first finite value
    for (bool normalize : {true, false}) {
      IncrementalProfile p({.window = 20, .history = 250, .normalize = normalize});
      expect_left_profile(stream(p, u), naive::left_profile(u, 20, 10, normalize, 250), 20);
    }
  }
}

TEST_P(IncrementalProfileTest, TheProductsDefaultsOverTheirHistory) {
  auto t = random_walk(2048 * 3, 24);
  IncrementalProfile p;  // window 144, history 2 048, exclusion 72, non-normalised
  EXPECT_EQ(p.window(), 144);
  EXPECT_EQ(p.exclusion(), 72);
  expect_left_profile(stream(p, t), left_profile(t, 144, {.normalize = false}, 2048), 144);
  EXPECT_LT(p.state_bytes(), 40000u);
}

INSTANTIATE_TEST_SUITE_P(Kernels, IncrementalProfileTest,
                         ::testing::ValuesIn(detail::supported_kernels().begin(),
                                             detail::supported_kernels().end()),
                         [](const auto& info) { return std::string(info.param->name); });

TEST(IncrementalProfileArgumentsTest, InvalidArgumentsThrow) {
  EXPECT_THROW(IncrementalProfile({.window = 2}), std::invalid_argument);
  EXPECT_THROW(IncrementalProfile({.window = 10, .history = 15}), std::invalid_argument);
  EXPECT_THROW(IncrementalProfile({.window = 10, .history = 100, .exclusion = -1}),
               std::invalid_argument);
  IncrementalProfile p({.window = 4, .history = 10});
  std::vector<double> in(3), out(2);
  EXPECT_THROW(p.push(in, out), std::invalid_argument);
}

}  // namespace
}  // namespace vigil::detect
