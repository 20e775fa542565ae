#include "core/strings.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(Strings, ToLowerFoldsAsciiOnly) {
  EXPECT_EQ(to_lower("Ada@Example.COM"), "ada@example.com");
  EXPECT_EQ(to_lower("\xc3\x89t\xc3\xa9"), "\xc3\x89t\xc3\xa9");  // UTF-8 untouched
  EXPECT_EQ(to_lower(""), "");
}

TEST(Strings, IequalsIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(iequals("100-Continue", "100-continue"));
  EXPECT_FALSE(iequals("abc", "abcd"));
  EXPECT_FALSE(iequals("a", "b"));
  EXPECT_FALSE(iequals("\xc3\x89", "\xc3\xa9"));
}

TEST(Strings, TrimDropsSpacesAndTabsAtBothEnds) {
  EXPECT_EQ(trim(" \t a b \t"), "a b");
  EXPECT_EQ(trim("   "), "");
  EXPECT_EQ(trim("x"), "x");
}

TEST(Strings, ParseIntTakesTheWholeStringOnly) {
  EXPECT_EQ(parse_int<int>("42"), 42);
  EXPECT_EQ(parse_int<int64_t>("-7"), -7);
  EXPECT_EQ(parse_int<int>(""), std::nullopt);
  EXPECT_EQ(parse_int<int>("+1"), std::nullopt);
  EXPECT_EQ(parse_int<int>(" 1"), std::nullopt);
  EXPECT_EQ(parse_int<int>("1 "), std::nullopt);
  EXPECT_EQ(parse_int<int>("12abc"), std::nullopt);
  EXPECT_EQ(parse_int<uint64_t>("-1"), std::nullopt);
  EXPECT_EQ(parse_int<int>("99999999999"), std::nullopt);  // out of range
}

TEST(Strings, ParseIntChecksBounds) {
  EXPECT_EQ(parse_int<int>("100", 100, 599), 100);
  EXPECT_EQ(parse_int<int>("599", 100, 599), 599);
  EXPECT_EQ(parse_int<int>("99", 100, 599), std::nullopt);
  EXPECT_EQ(parse_int<int>("600", 100, 599), std::nullopt);
  EXPECT_EQ(parse_int<int64_t>("0", 1), std::nullopt);
}

TEST(StringsTest, DurationsInMilliseconds) {
  EXPECT_EQ(parse_duration_ms("500ms"), 500);
  EXPECT_EQ(parse_duration_ms("250"), 250);
  EXPECT_EQ(parse_duration_ms("90s"), 90'000);
  EXPECT_EQ(parse_duration_ms("10m"), 600'000);
  EXPECT_EQ(parse_duration_ms("1h"), 3'600'000);
  EXPECT_EQ(parse_duration_ms("2d"), 172'800'000);
  for (const char* bad : {"", "0", "-1s", "1w", "h", "1.5h", "99999999999999999d"}) {
    EXPECT_FALSE(parse_duration_ms(bad)) << bad;
  }
}

}  // namespace
}  // namespace vigil
