#include "detect/level_detector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "detect/matrix_profile.h"

namespace vigil::detect {
namespace {

// A daily-ish cycle with noise: 144 points a period, as a gas sensor every 10 minutes.
// From point `from` of the cycle on (a stream that continues a baseline goes on where it ended).
std::vector<double> normal_series(size_t n, uint32_t seed, size_t from = 0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, 0.3);
  std::vector<double> out;
  for (size_t i = from; i < from + n; ++i) {
    out.push_back(40 + 10 * std::sin(static_cast<double>(i) * 2 * M_PI / 144) + noise(rng));
  }
  return out;
}

LevelSettings small() { return {.window = 24, .history = 512, .learn_points = 200}; }

TEST(LevelDetector, LevelsAreTheProfileOverTheBaselinesMaximum) {
  const LevelSettings s = small();
  const auto baseline = normal_series(400, 1);
  const auto stream = normal_series(300, 2);
  LevelDetector d(s, baseline);
  const auto max = profile_max(baseline, s);
  ASSERT_TRUE(max);
  EXPECT_EQ(d.baseline_max(), max);
  // The reference: the left profile of baseline + stream, over the same bounded history.
  std::vector<double> all(baseline.end() - std::min<size_t>(baseline.size(), s.history),
                          baseline.end());
  const size_t offset = all.size();
  all.insert(all.end(), stream.begin(), stream.end());
  const auto ref = left_profile(all, s.window, {.normalize = false, .threads = 1}, s.history);
  for (size_t i = 0; i < stream.size(); ++i) {
    const Judged j = d.push(stream[i]);
    const double want = ref.distance[offset + i - s.window + 1];
    ASSERT_NEAR(j.distance, want, 1e-6 * std::max(1.0, want)) << i;
    EXPECT_NEAR(j.percent, 100 * want / *max, 1e-6) << i;
    EXPECT_NE(j.level, Level::kUndefined) << i;
  }
}

TEST(LevelDetector, ASpikeTurnsCriticalAndBackAndOnlyChangesAreMarked) {
  LevelDetector d(small(), normal_series(400, 3));
  auto stream = normal_series(600, 4, 400);
  for (size_t i = 300; i < 312; ++i) stream[i] += 60;  // a leak
  std::vector<Level> levels;
  int changes = 0;
  Level last = Level::kUndefined;
  for (double v : stream) {
    const Judged j = d.push(v);
    EXPECT_EQ(j.changed, j.level != last);
    changes += j.changed;
    last = j.level;
    levels.push_back(j.level);
  }
  int ok = 0;
  for (size_t i = 0; i < 300; ++i) ok += levels[i] == Level::kOk;
  EXPECT_GE(ok, 290) << "normal points are ok (noise may warn now and then)";
  EXPECT_EQ(levels[305], Level::kCritical);
  EXPECT_EQ(levels.back(), Level::kOk);
  EXPECT_GE(changes, 3);  // undefined → ok, → critical (maybe via warning), → ok
  EXPECT_LE(changes, 8);
}

TEST(LevelDetector, WithoutABaselineTheFirstPointsAreLearned) {
  const LevelSettings s = small();
  LevelDetector d(s);
  const auto stream = normal_series(500, 5);
  for (int i = 0; i < s.learn_points; ++i) {
    const Judged j = d.push(stream[i]);
    EXPECT_EQ(j.level, Level::kUndefined) << i;
    EXPECT_TRUE(std::isnan(j.percent));
  }
  EXPECT_EQ(d.baseline_max(),
            profile_max(std::span(stream).first(static_cast<size_t>(s.learn_points)), s));
  const Judged next = d.push(stream[s.learn_points]);
  EXPECT_EQ(next.level, Level::kOk);
  EXPECT_TRUE(next.changed);
}

TEST(LevelDetector, AFlatStartIsNotLearnedAsTheBaseline) {
  const LevelSettings s = small();
  LevelDetector d(s);
  std::vector<double> stream(static_cast<size_t>(s.learn_points), 0.0);  // days of zeros
  const auto later = normal_series(500, 7);
  stream.insert(stream.end(), later.begin(), later.end());
  for (size_t i = 0; i < 2 * static_cast<size_t>(s.learn_points); ++i) {
    EXPECT_EQ(d.push(stream[i]).level, Level::kUndefined) << i;
  }
  EXPECT_TRUE(d.baseline_max());
  EXPECT_NE(d.push(stream[2 * static_cast<size_t>(s.learn_points)]).level, Level::kUndefined);
}

TEST(LevelDetector, GapsAndFlatBaselinesAreUndefined) {
  LevelDetector d(small(), normal_series(400, 6));
  EXPECT_NE(d.push(40).level, Level::kUndefined);
  const Judged gap = d.push(std::nan(""));
  EXPECT_EQ(gap.level, Level::kUndefined);
  for (int i = 0; i < 23; ++i) EXPECT_EQ(d.push(40).level, Level::kUndefined) << i;
  EXPECT_NE(d.push(40).level, Level::kUndefined) << "the window no longer holds the gap";

  LevelDetector flat(small(), std::vector<double>(400, 5.0));
  EXPECT_FALSE(flat.baseline_max());
  EXPECT_EQ(flat.push(5).level, Level::kUndefined);
  EXPECT_EQ(level_name(Level::kWarning), "warning");
}

TEST(LevelDetector, BadSettingsThrow) {
  EXPECT_THROW(LevelDetector({.window = 2}), std::invalid_argument);
  EXPECT_THROW(LevelDetector({.window = 144, .history = 200}), std::invalid_argument);
}

}  // namespace
}  // namespace vigil::detect
