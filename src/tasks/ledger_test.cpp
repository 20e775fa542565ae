// The Ledger suite on a temporary SQLite file, and the credits <-> milli-credits conversion.
#include "support/backends.h"
#include "tasks/ledger_suite.h"

namespace vigil::tasks::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, LedgerSuite,
                               ::testing::Types<vigil::testing::SqliteFileBackend>);

TEST(CreditsTest, CreditsConvertExactlyToMilliCredits) {
  EXPECT_EQ(*milli_from_credits(1.5), 1500);
  EXPECT_EQ(*milli_from_credits(0.001), 1);
  EXPECT_EQ(*milli_from_credits(-2), -2000);
  EXPECT_EQ(*milli_from_credits(123456.789), 123456789);
  EXPECT_FALSE(milli_from_credits(0.0001).ok());
  EXPECT_FALSE(milli_from_credits(1e13).ok());
  EXPECT_FALSE(milli_from_credits(std::nan("")).ok());
  EXPECT_EQ(credits_from_milli(1500), 1.5);
}
}  // namespace vigil::tasks::testing
