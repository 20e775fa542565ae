#include "detect/baselines.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace vigil::detect {
namespace {

// A noisy daily wave (144 points a day) of this amplitude around this level.
std::vector<double> wave(size_t n, double level, double amplitude, unsigned seed,
                         double noisy = 0.05) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, amplitude * noisy);
  std::vector<double> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(level + amplitude * std::sin(static_cast<double>(i) * 2 * M_PI / 144) +
                  noise(rng));
  }
  return out;
}

LevelSettings settings() { return {.window = 48, .exclusion = 24, .history = 2048}; }

TEST(BaselinesTest, MomentsAreOfTheFiniteValues) {
  const std::vector<double> v{1, 2, 3, NAN, INFINITY};
  Moments m = moments(v);
  EXPECT_EQ(m.count, 3u);
  EXPECT_DOUBLE_EQ(m.mean, 2);
  EXPECT_NEAR(m.std, std::sqrt(2.0 / 3.0), 1e-12);
  EXPECT_EQ(moments({}).count, 0u);
}

TEST(BaselinesTest, CleaningCutsTheDiscordsOut) {
  std::vector<double> series = wave(1500, 50, 10, 1);
  for (size_t i = 700; i < 720; ++i) series[i] += 200;  // a leak
  const Cleaned c = clean(series, settings(), 3);
  EXPECT_EQ(c.removed, 3);
  ASSERT_EQ(c.values.size(), series.size()) << "gaps, not cuts";
  size_t gaps = 0;
  double top = 0;
  for (size_t i = 0; i < c.values.size(); ++i) {
    if (std::isnan(c.values[i])) {
      ++gaps;
    } else {
      EXPECT_EQ(c.values[i], series[i]);
      top = std::max(top, c.values[i]);
    }
  }
  EXPECT_GT(gaps, 48u);
  EXPECT_LE(gaps, 3u * 48);
  EXPECT_LT(top, 100) << "the leak is gone";
  // A cleaned series' own profile maximum leaves the gaps out.
  EXPECT_LT(*profile_max(c.values, settings()), *profile_max(series, settings()));
  // Too short for a profile: whole.
  const std::vector<double> shorter(series.begin(), series.begin() + 100);
  EXPECT_EQ(clean(shorter, settings()).values, shorter);
  EXPECT_EQ(clean(series, settings(), 0).values, series);
}

TEST(BaselinesTest, SelectionSkipsThoseThatWouldWarnAndPicksTheClosest) {
  const std::vector<double> history = wave(1000, 50, 10, 2);
  const std::vector<double> calm = wave(800, 50, 1, 3);           // the history would warn under it
  const std::vector<double> alike = wave(2000, 50, 10, 4);        // the same kind
  const std::vector<double> louder = wave(2000, 50, 10, 5, 0.1);  // noisier: fits, farther
  const std::vector<double> tiny(20, 1.0);                        // too short
  const std::vector<Candidate> candidates{{calm}, {alike}, {louder}, {tiny}};
  const Selection s = select(history, candidates, settings());
  ASSERT_EQ(s.verdicts.size(), 4u);
  ASSERT_TRUE(s.best);
  EXPECT_EQ(*s.best, 1u);
  EXPECT_FALSE(s.verdicts[0].fits);
  EXPECT_NE(s.verdicts[0].why.find("would warn"), std::string::npos) << s.verdicts[0].why;
  EXPECT_GE(s.verdicts[0].max_percent, 100);
  EXPECT_TRUE(s.verdicts[1].fits);
  EXPECT_LT(s.verdicts[1].max_percent, 100);
  EXPECT_TRUE(s.verdicts[2].fits);
  EXPECT_GT(s.verdicts[2].distance, s.verdicts[1].distance);
  EXPECT_FALSE(s.verdicts[3].fits);
  EXPECT_NE(s.verdicts[3].why.find("too short"), std::string::npos);

  const std::vector<Candidate> none{{calm}};
  EXPECT_FALSE(select(history, none, settings()).best);
  const std::vector<double> short_history(history.begin(), history.begin() + 50);
  const Selection s2 = select(short_history, candidates, settings());
  EXPECT_FALSE(s2.best);
  EXPECT_NE(s2.verdicts[1].why.find("shorter than two windows"), std::string::npos);
}

TEST(BaselinesTest, AugmentationAppendsAndKeepsTheNewest) {
  const std::vector<double> base{1, 2, 3}, more{4, 5};
  EXPECT_EQ(augment(base, more, 10), (std::vector<double>{1, 2, 3, 4, 5}));
  EXPECT_EQ(augment(base, more, 3), (std::vector<double>{3, 4, 5}));
}

}  // namespace
}  // namespace vigil::detect
