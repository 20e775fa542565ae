#include <gtest/gtest.h>

#include "net/server.h"

namespace vigil::net {
namespace {

TEST(ServerLimitsTest, MaxConnectionsFitsTheDescriptorLimit) {
  EXPECT_EQ(effective_max_connections(100000, 1024, 20), 1024 - 20 - kFdHeadroom);
  EXPECT_EQ(effective_max_connections(500, 1024, 20), 500u);     // the configured limit is lower
  EXPECT_EQ(effective_max_connections(100000, 0, 20), 100000u);  // no limit
  EXPECT_EQ(effective_max_connections(100000, 50, 20), 1u);      // no room: one, not zero
  EXPECT_EQ(effective_max_connections(100000, uint64_t{1} << 40, 20), 100000u);
}

}  // namespace
}  // namespace vigil::net
