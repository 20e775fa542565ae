#include "records/envelope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace vigil::records {
namespace {

TEST(EnvelopeTest, FewSamplesComeBackThemselves) {
  std::vector<float> x{1, -2, 3};
  Envelope e = envelope(x, 10, 5);
  EXPECT_EQ(e.first, 10);
  EXPECT_EQ(e.step, 1);
  EXPECT_EQ(e.min, x);
  EXPECT_EQ(e.max, x);
}

TEST(EnvelopeTest, EverySpikeSurvivesDownsampling) {
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0, 1);
  std::vector<float> x(450'000);
  for (float& v : x) v = noise(rng);
  x[123'457] = 900;  // one-sample spikes a plot must show
  x[400'001] = -700;
  Envelope e = envelope(x, 0, 2000);
  EXPECT_EQ(e.step, 225);
  ASSERT_EQ(e.min.size(), 2000u);
  float hi = -1e9f, lo = 1e9f;
  for (size_t b = 0; b < e.max.size(); ++b) {
    hi = std::max(hi, e.max[b]);
    lo = std::min(lo, e.min[b]);
    EXPECT_LE(e.min[b], e.max[b]);
  }
  EXPECT_EQ(hi, 900);
  EXPECT_EQ(lo, -700);
  EXPECT_EQ(e.max[123'457 / 225], 900);
}

TEST(EnvelopeTest, ALastPartialBucketAndGaps) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x{1, 2, nan, nan, 5};
  Envelope e = envelope(x, 0, 2);
  EXPECT_EQ(e.step, 3);
  ASSERT_EQ(e.min.size(), 2u);
  EXPECT_EQ(e.min[0], 1);
  EXPECT_EQ(e.max[0], 2);
  EXPECT_EQ(e.min[1], 5);
  Envelope gap = envelope(std::vector<float>{nan, nan, 1, 1}, 0, 2);
  EXPECT_TRUE(std::isnan(gap.min[0]) && std::isnan(gap.max[0]));
  EXPECT_TRUE(envelope({}, 0, 10).min.empty());
}

}  // namespace
}  // namespace vigil::records
