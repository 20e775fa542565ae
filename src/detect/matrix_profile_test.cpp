#include "detect/matrix_profile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "detect/kernels.h"
#include "detect/naive_reference.h"
#include "detect/test_series.h"

namespace vigil::detect {
namespace {
using testing::noise;
using testing::random_walk;
using testing::same_profile;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Every test runs with each kernel set this CPU supports (SSE2, AVX2, AVX-512).
class MatrixProfileTest : public ::testing::TestWithParam<const detail::Kernels*> {
 protected:
  void SetUp() override { detail::force_kernels(GetParam()); }
  void TearDown() override { detail::force_kernels(nullptr); }

  static void expect_self_join(const std::vector<double>& t, int m, int e, bool normalize,
                               double tol = 1e-6) {
    const auto want = naive::self_join(t, m, e, normalize);
    for (int threads : {1, 2}) {
      const auto got =
          self_join(t, m, {.normalize = normalize, .exclusion = e, .threads = threads});
      EXPECT_TRUE(same_profile(
          got, want, t, t, m, normalize, [&](int64_t i, int64_t j) { return std::abs(i - j) > e; },
          tol))
          << "m " << m << " exclusion " << e << " normalize " << normalize << " threads "
          << threads;
    }
  }
};

TEST_P(MatrixProfileTest, SelfJoinMatchesTheNaiveProfileOnRandomWalksAndNoise) {
  for (bool normalize : {true, false}) {
    expect_self_join(random_walk(600, 1), 32, 16, normalize);
    expect_self_join(random_walk(457, 2), 7, 3, normalize);
    expect_self_join(noise(500, 3), 20, 5, normalize);
    expect_self_join(noise(300, 4), 3, 0, normalize);
    // Fewer diagonals than one band, and bands past the last diagonal.
    expect_self_join(random_walk(40, 5), 10, 5, normalize);
    expect_self_join(random_walk(12, 6), 10, 0, normalize);
  }
}

TEST_P(MatrixProfileTest, ConstantStretchesFollowStumpysConvention) {
  // Two flat stretches at different levels, one short one, and noise between.
  std::vector<double> t = noise(400, 7);
  for (int i = 50; i < 120; ++i) t[i] = 2.5;
  for (int i = 200; i < 260; ++i) t[i] = -1.0;
  for (int i = 300; i < 318; ++i) t[i] = 4.0;
  for (bool normalize : {true, false}) expect_self_join(t, 16, 8, normalize);
  // One constant window in z-normalised mode: sqrt(m) from every other window.
  std::vector<double> one = noise(100, 8);
  for (int i = 40; i < 56; ++i) one[i] = 0.25;
  expect_self_join(one, 16, 8, true);
  const auto p = self_join(one, 16, {.exclusion = 8});
  EXPECT_DOUBLE_EQ(p.distance[40], 4.0);  // sqrt(16): only regular windows around
  // A constant series: every window at 0 (z-normalised and not).
  const std::vector<double> flat(64, 3.0);
  for (bool normalize : {true, false}) {
    const auto f = self_join(flat, 8, {.normalize = normalize, .exclusion = 4});
    for (size_t i = 0; i < f.distance.size(); ++i) {
      EXPECT_EQ(f.distance[i], 0.0) << i;
      EXPECT_GT(std::abs(f.index[i] - static_cast<int64_t>(i)), 4) << i;
    }
  }
}

TEST_P(MatrixProfileTest, WindowsWithNanOrInfNeverMatch) {
  std::vector<double> t = random_walk(500, 9);
  t[100] = kNaN;
  for (int i = 250; i < 262; ++i) t[i] = kNaN;
  t[400] = kInf;
  t[401] = -kInf;
  for (bool normalize : {true, false}) {
    expect_self_join(t, 24, 12, normalize);
    const auto p = self_join(t, 24, {.normalize = normalize, .exclusion = 12});
    for (size_t i = 0; i < p.distance.size(); ++i) {
      const bool holds =
          (i <= 100 && i + 24 > 100) || (i <= 261 && i + 24 > 250) || (i <= 401 && i + 24 > 400);
      EXPECT_EQ(std::isinf(p.distance[i]), holds) << i;
      if (p.index[i] >= 0) {
        const auto j = static_cast<size_t>(p.index[i]);
        EXPECT_FALSE((j <= 100 && j + 24 > 100) || (j <= 261 && j + 24 > 250) ||
                     (j <= 401 && j + 24 > 400))
            << i << " matched " << j;
      }
    }
  }
  // Nothing valid at all.
  const std::vector<double> gone(50, kNaN);
  const auto p = self_join(gone, 8);
  for (size_t i = 0; i < p.distance.size(); ++i) {
    EXPECT_TRUE(std::isinf(p.distance[i]));
    EXPECT_EQ(p.index[i], -1);
  }
}

TEST_P(MatrixProfileTest, HugeOffsetsAndScalesKeepTheirPrecision) {
  for (bool normalize : {true, false}) {
    expect_self_join(random_walk(400, 10, 1e12), 16, 8, normalize);
    expect_self_join(random_walk(400, 11, -3e13, 1e-3), 16, 8, normalize);
    expect_self_join(random_walk(400, 12, 0, 1e9), 16, 8, normalize);  // relative above 1
  }
}

TEST_P(MatrixProfileTest, AbJoinMatchesTheNaiveProfile) {
  auto a = random_walk(300, 13);
  auto b = random_walk(450, 14);
  a[77] = kNaN;
  for (int i = 100; i < 140; ++i) b[i] = 1.5;
  for (int i = 10; i < 40; ++i) a[i] = 1.5;
  for (bool normalize : {true, false}) {
    for (auto [x, y] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      const auto want = naive::ab_join(*x, *y, 20, normalize);
      for (int threads : {1, 3}) {
        const auto got = ab_join(*x, *y, 20, {.normalize = normalize, .threads = threads});
        EXPECT_TRUE(
            same_profile(got, want, *x, *y, 20, normalize, [](int64_t, int64_t) { return true; }))
            << normalize << " " << threads;
      }
    }
    // b as long as one window.
    const std::vector<double> shortb(b.begin(), b.begin() + 20);
    EXPECT_TRUE(same_profile(ab_join(a, shortb, 20, {.normalize = normalize}),
                             naive::ab_join(a, shortb, 20, normalize), a, shortb, 20, normalize,
                             [](int64_t, int64_t) { return true; }));
  }
}

TEST_P(MatrixProfileTest, LeftProfileMatchesTheNaiveOneWithAndWithoutHistory) {
  auto t = random_walk(700, 15);
  t[300] = kNaN;
  for (int i = 500; i < 540; ++i) t[i] = 0.0;
  for (bool normalize : {true, false}) {
    for (int64_t history : {0, 200, 16 + 8 + 1, 16 + 8 + 40}) {
      const auto want = naive::left_profile(t, 16, 8, normalize, history);
      const auto got = left_profile(t, 16, {.normalize = normalize, .exclusion = 8}, history);
      EXPECT_TRUE(same_profile(got, want, t, t, 16, normalize,
                               [&](int64_t i, int64_t j) {
                                 return i - j > 8 && (history == 0 || j >= i + 16 - history);
                               }))
          << normalize << " history " << history;
    }
  }
}

// Past kRefreshRows rows the diagonals restart from an exact sum; spot-check rows of a long series
// (the whole naive profile would take too long).
TEST_P(MatrixProfileTest, LongSeriesStayExactAcrossRefreshes) {
  auto t = random_walk(2 * detail::kRefreshRows + 700, 16, 5e6);
  for (bool normalize : {true, false}) {
    const int m = 12, e = 6;
    const auto got = self_join(t, m, {.normalize = normalize, .exclusion = e, .threads = 2});
    for (int64_t i = 0; i < static_cast<int64_t>(got.distance.size()); i += 331) {
      double want;
      int64_t j;
      naive::nearest(
          t, i, t, m, normalize, [&](int64_t k) { return std::abs(i - k) > e; }, want, j);
      EXPECT_NEAR(got.distance[i], want, 1e-6 * std::max(1.0, want)) << i;
    }
  }
}

TEST_P(MatrixProfileTest, TheThreadCountDoesNotChangeTheResult) {
  auto t = random_walk(3000, 17);
  for (int i = 1000; i < 1100; ++i) t[i] = 7.0;
  t[2000] = kNaN;
  for (bool normalize : {true, false}) {
    const auto one = self_join(t, 50, {.normalize = normalize, .threads = 1});
    for (int threads : {2, 3, 7}) {
      const auto many = self_join(t, 50, {.normalize = normalize, .threads = threads});
      EXPECT_EQ(many.distance, one.distance) << threads;
      EXPECT_EQ(many.index, one.index) << threads;
    }
    const auto a1 = ab_join(t, random_walk(900, 18), 50, {.normalize = normalize, .threads = 1});
    const auto a4 = ab_join(t, random_walk(900, 18), 50, {.normalize = normalize, .threads = 4});
    EXPECT_EQ(a1.distance, a4.distance);
    EXPECT_EQ(a1.index, a4.index);
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, MatrixProfileTest,
                         ::testing::ValuesIn(detail::supported_kernels().begin(),
                                             detail::supported_kernels().end()),
                         [](const auto& info) { return std::string(info.param->name); });

TEST(MatrixProfileKernelsTest, EveryKernelSetGivesTheSameProfile) {
  const auto t = random_walk(2000, 19);
  for (bool normalize : {true, false}) {
    detail::force_kernels(detail::supported_kernels()[0]);
    const auto base = self_join(t, 64, {.normalize = normalize});
    for (const detail::Kernels* k : detail::supported_kernels()) {
      detail::force_kernels(k);
      const auto p = self_join(t, 64, {.normalize = normalize});
      for (size_t i = 0; i < p.distance.size(); ++i) {
        EXPECT_NEAR(p.distance[i], base.distance[i], 1e-9) << k->name << " " << i;
      }
    }
    detail::force_kernels(nullptr);
  }
}

TEST(MatrixProfileArgumentsTest, InvalidArgumentsThrowWithAMessage) {
  const auto t = random_walk(100, 20);
  auto message = [](auto f) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_EQ(message([&] { self_join(t, 2); }), "window m must be at least 3, got 2");
  EXPECT_EQ(message([&] { self_join(t, 101); }),
            "window m = 101 is longer than the series (100 points)");
  EXPECT_EQ(message([&] { ab_join(t, std::vector<double>(10), 20); }),
            "window m = 20 is longer than series b (10 points)");
  EXPECT_EQ(message([&] { self_join(t, 10, {.exclusion = -1}); }),
            "exclusion zone must be at least 0, got -1");
  EXPECT_EQ(message([&] { self_join(t, 10, {.threads = -2}); }),
            "threads must be at least 0 (0: one per hardware thread), got -2");
  EXPECT_EQ(message([&] { left_profile(t, 10, {.exclusion = 5}, 15); }),
            "history must be 0 (unbounded) or more than window + exclusion (15), got 15");
  EXPECT_EQ(message([&] { top_discords({}, -1, 0); }), "k must be at least 0, got -1");
  EXPECT_EQ(message([&] { self_join({}, 3); }),
            "window m = 3 is longer than the series (0 points)");
  // One window: no neighbour.
  const auto one = self_join(std::vector<double>{1, 2, 3}, 3);
  EXPECT_TRUE(std::isinf(one.distance[0]));
  EXPECT_EQ(one.index[0], -1);
  EXPECT_EQ(exclusion_for(144, {}), 72);
}

TEST(TopDiscordsTest, LargestFirstOutsideEachOthersExclusionZone) {
  MatrixProfile p;
  p.distance = {1, 9, 8.5, 2, kInf, 3, 7, 1, kNaN, 6};
  p.index.assign(p.distance.size(), 0);
  EXPECT_EQ(top_discords(p, 3, 1), (std::vector<Discord>{{1, 9}, {6, 7}, {9, 6}}));
  EXPECT_EQ(top_discords(p, 3, 0), (std::vector<Discord>{{1, 9}, {2, 8.5}, {6, 7}}));
  EXPECT_EQ(top_discords(p, 100, 4).size(), 2u);  // 1, then 6 (9 is within 4 of 6)
  EXPECT_TRUE(top_discords(p, 0, 1).empty());
}

TEST(TopDiscordsTest, APlantedAnomalyIsTheTopDiscord) {
  std::vector<double> t(2000);
  for (size_t i = 0; i < t.size(); ++i) t[i] = std::sin(i * 2 * M_PI / 50);
  for (int i = 1210; i < 1225; ++i) t[i] += 0.8;
  for (bool normalize : {true, false}) {
    const auto d = top_discords(self_join(t, 50, {.normalize = normalize}), 1, 25);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_GT(d[0].index, 1210 - 50);
    EXPECT_LT(d[0].index, 1225);
  }
}

}  // namespace
}  // namespace vigil::detect
