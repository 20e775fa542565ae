#include "records/hypnogram.h"

#include <gtest/gtest.h>

#include <vector>

namespace vigil::records {
namespace {

TEST(HypnogramTest, StagesAddUpToTheirTimeAndEfficiencyLeavesArtefactsOut) {
  const std::vector<int8_t> stages{0, 0, -1, 1, 2, 2, 3, 4, 0, 9};
  const SleepStats s = sleep_stats(stages);
  EXPECT_EQ(s.epochs, 10);
  EXPECT_EQ(s.wake_s, 90);
  EXPECT_EQ(s.artefact_s, 60) << "-1 and an unknown stage";
  EXPECT_EQ(s.n1_s, 30);
  EXPECT_EQ(s.n2_s, 60);
  EXPECT_EQ(s.n3_s, 30);
  EXPECT_EQ(s.rem_s, 30);
  EXPECT_EQ(s.asleep_s, 150);
  ASSERT_TRUE(s.efficiency);
  EXPECT_DOUBLE_EQ(*s.efficiency, 150.0 / 240.0);
  EXPECT_EQ(s.sleep_latency_s, 90);
  EXPECT_EQ(s.rem_latency_s, 120);
}

TEST(HypnogramTest, NoSleepNoLatenciesAndNoScoredTimeNoEfficiency) {
  const std::vector<int8_t> awake{0, 0, 0};
  const SleepStats a = sleep_stats(awake);
  EXPECT_DOUBLE_EQ(*a.efficiency, 0.0);
  EXPECT_FALSE(a.sleep_latency_s);
  EXPECT_FALSE(a.rem_latency_s);
  const std::vector<int8_t> artefacts{-1, -1};
  EXPECT_FALSE(sleep_stats(artefacts).efficiency);
  EXPECT_FALSE(sleep_stats({}).efficiency);
  const std::vector<int8_t> rem_first{4, 0};
  EXPECT_EQ(sleep_stats(rem_first).rem_latency_s, 0);
}

}  // namespace
}  // namespace vigil::records
