#include "net/file_response.h"

#include <gtest/gtest.h>

namespace vigil::net {
namespace {

std::optional<ByteRange> range(std::string_view header, uint64_t size) {
  auto r = parse_range(header, size);
  EXPECT_TRUE(r.ok()) << header;
  return r.ok() ? *r : std::nullopt;
}

TEST(ParseRange, TheThreeFormsOfOneRange) {
  auto r = range("bytes=10-19", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 10u);
  EXPECT_EQ(r->length, 10u);
  r = range("bytes=90-", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 90u);
  EXPECT_EQ(r->length, 10u);
  r = range("bytes=-5", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 95u);
  EXPECT_EQ(r->length, 5u);
}

TEST(ParseRange, ClampsToTheFile) {
  auto r = range("bytes=90-500", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->length, 10u);
  r = range("bytes=-500", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 0u);
  EXPECT_EQ(r->length, 100u);
}

TEST(ParseRange, IgnoresWhatItDoesNotServe) {
  for (const char* h :
       {"items=0-1", "bytes=0-1,5-6", "bytes=abc", "bytes=5-1", "bytes=-", "bytes= 1-2"}) {
    EXPECT_EQ(range(h, 100), std::nullopt) << h;
  }
}

TEST(ParseRange, UnsatisfiableIsAnError) {
  EXPECT_FALSE(parse_range("bytes=100-", 100).ok());
  EXPECT_FALSE(parse_range("bytes=-0", 100).ok());
  EXPECT_FALSE(parse_range("bytes=-1", 0).ok());
  EXPECT_EQ(parse_range("bytes=100-", 100).status().code(), ErrorCode::kFailedPrecondition);
  // Past the end of any file, 64 bits or more.
  EXPECT_FALSE(parse_range("bytes=18446744073709551615-", 100).ok());
  EXPECT_FALSE(parse_range("bytes=99999999999999999999-", 100).ok());
  // A suffix or a last position beyond 64 bits is the whole file, or up to its end.
  auto r = range("bytes=-99999999999999999999", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->length, 100u);
  r = range("bytes=10-99999999999999999999", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->length, 90u);
}

TEST(IfRange, OnlyTheSameStrongTagKeepsTheRange) {
  EXPECT_TRUE(if_range_allows("\"abc\"", "\"abc\""));
  EXPECT_TRUE(if_range_allows(" \"abc\" ", "\"abc\""));
  EXPECT_FALSE(if_range_allows("W/\"abc\"", "\"abc\""));
  EXPECT_FALSE(if_range_allows("\"old\"", "\"abc\""));
  EXPECT_FALSE(if_range_allows("Sat, 05 Dec 2026 10:00:00 GMT", "\"abc\""));
}

TEST(EtagMatches, ListsStarAndWeakTags) {
  const std::string tag = "\"abc\"";
  EXPECT_TRUE(etag_matches("\"abc\"", tag));
  EXPECT_TRUE(etag_matches("*", tag));
  EXPECT_TRUE(etag_matches("\"x\", \"abc\"", tag));
  EXPECT_TRUE(etag_matches("W/\"abc\"", tag));
  EXPECT_FALSE(etag_matches("\"abcd\"", tag));
  EXPECT_FALSE(etag_matches("abc", tag));
  EXPECT_FALSE(etag_matches("", tag));
  EXPECT_FALSE(etag_matches("\"ab\", \"c\"", tag));
}

}  // namespace
}  // namespace vigil::net
