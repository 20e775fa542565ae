#include "core/log_throttle.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

using namespace std::chrono_literals;

TEST(LogThrottleTest, OneReportPerIntervalWithTheCount) {
  LogThrottle throttle(10s);
  LogThrottle::Clock::time_point t0{};
  EXPECT_EQ(throttle.hit(t0 + 1s), 1u);  // the first is reported at once
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(throttle.hit(t0 + 2s).has_value());
  EXPECT_FALSE(throttle.hit(t0 + 10s).has_value());
  EXPECT_EQ(throttle.hit(t0 + 11s), 1002u);  // the held ones and this one
  EXPECT_EQ(throttle.hit(t0 + 60s), 1u);
}

}  // namespace
}  // namespace vigil
