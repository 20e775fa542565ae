#include "core/ids.h"
#include "core/logging.h"
#include "core/names.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <set>

namespace vigil {
namespace {

// The reference: what gmtime_r + snprintf (the previous implementation) print.
std::string reference_rfc3339(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

TEST(Rfc3339, KnownInstants) {
  using namespace std::chrono;
  EXPECT_EQ(format_rfc3339(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(system_clock::time_point{milliseconds(1795429530123)}),
            "2026-11-23T10:25:30.123Z");
  EXPECT_EQ(format_rfc3339(system_clock::time_point{milliseconds(951782400000)}),
            "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(system_clock::time_point{milliseconds(-1)}), "1969-12-31T23:59:59.999Z");
}

TEST(Rfc3339, MatchesGmtimeOverRandomInstants) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> us(-2'000'000'000'000'000, 7'000'000'000'000'000);
  for (int i = 0; i < 20000; ++i) {
    std::chrono::system_clock::time_point t{std::chrono::microseconds(us(rng))};
    ASSERT_EQ(format_rfc3339(t), reference_rfc3339(t)) << us(rng);
  }
}

TEST(Rfc3339, RoundTripsThroughParseTimestamp) {
  using namespace std::chrono;
  system_clock::time_point t{milliseconds(1795429530123)};
  auto parsed = parse_timestamp(format_rfc3339(t));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, t);
}

TEST(Rfc3339, TimestampsBeyondTheClockRangeAreRefusedNotOverflowed) {
  EXPECT_TRUE(parse_timestamp("2200-01-01T00:00:00Z").has_value());
  EXPECT_TRUE(parse_timestamp("1700-01-01T00:00:00Z").has_value());
  EXPECT_FALSE(parse_timestamp("9999-12-31T23:59:59Z").has_value());
  EXPECT_FALSE(parse_timestamp("0001-01-01T00:00:00Z").has_value());
  EXPECT_TRUE(parse_timestamp("8999999999999").has_value());      // ms, year 2255
  EXPECT_FALSE(parse_timestamp("9999999999999999").has_value());  // ms, far beyond
}

TEST(SystemTimeOf, MapsSteadyReadingsToTheWallClock) {
  using namespace std::chrono;
  // Within a second of the cached pair, and across a refresh (5 s away in either direction),
  // the mapping keeps the distance between readings and lands on the wall clock.
  auto near = [](system_clock::time_point a, system_clock::time_point b) {
    return std::chrono::abs(a - b) < milliseconds(50);
  };
  for (int round = 0; round < 2; ++round) {
    auto steady = steady_clock::now();
    auto wall = system_clock::now();
    EXPECT_TRUE(near(system_time_of(steady), wall));
    EXPECT_TRUE(near(system_time_of(steady - milliseconds(300)), wall - milliseconds(300)));
    EXPECT_TRUE(near(system_time_of(steady - seconds(5)), wall - seconds(5)));
    EXPECT_TRUE(near(system_time_of(steady + seconds(5)), wall + seconds(5)));
    EXPECT_EQ(system_time_of(steady + milliseconds(1)) - system_time_of(steady),
              duration_cast<system_clock::duration>(milliseconds(1)));
  }
}

TEST(RequestId, FifteenCharactersSharedPrefixAndUnique) {
  auto a = new_request_id(), b = new_request_id();
  EXPECT_EQ(a.size(), 15u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdefghijklmnopqrstuv"), std::string::npos) << a;
  EXPECT_EQ(a.substr(0, 6), b.substr(0, 6));
  EXPECT_NE(a, b);
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(new_request_id());
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(JsonEscape, EscapesQuotesBackslashesAndControlCharacters) {
  std::string out = "x";
  append_json_escaped(out, std::string_view("a\"b\\c\nd\re\tf\x01g\x1fh\0i", 17));
  EXPECT_EQ(out, "xa\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\\u0000i");
  out.clear();
  append_json_escaped(out, "plain ascii and UTF-8 \xc3\xa9 pass through");
  EXPECT_EQ(out, "plain ascii and UTF-8 \xc3\xa9 pass through");
  out.clear();
  append_json_escaped(out, "");
  EXPECT_EQ(out, "");
  // Every position in and around the 8-byte words of the fast path, and bytes just around the
  // ones that need escaping (0x1f/0x20, '!'/'"'/'#', '['/'\\'/']', UTF-8 above 0x7f).
  for (size_t len : {7u, 8u, 9u, 16u, 17u, 31u}) {
    for (size_t at = 0; at < len; ++at) {
      for (char c : {'\x1f', ' ', '!', '"', '#', '[', '\\', ']', '\x7f', '\xc3'}) {
        std::string in(len, 'a');
        in[at] = c;
        std::string expected = std::string(at, 'a');
        if (c == '"' || c == '\\') {
          expected += '\\';
          expected += c;
        } else if (c == '\x1f') {
          expected += "\\u001f";
        } else {
          expected += c;
        }
        expected += std::string(len - at - 1, 'a');
        out.clear();
        append_json_escaped(out, in);
        EXPECT_EQ(out, expected) << "len " << len << " at " << at << " char " << int(c);
      }
    }
  }
}

TEST(Names, ValidAndInvalid) {
  EXPECT_TRUE(is_valid_name("breast_cancer-v2.1"));
  EXPECT_TRUE(is_valid_name(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_name(""));
  EXPECT_FALSE(is_valid_name(std::string(65, 'a')));
  EXPECT_FALSE(is_valid_name("a b"));
  EXPECT_FALSE(is_valid_name("a/b"));
  EXPECT_FALSE(is_valid_name("caf\xc3\xa9"));
  EXPECT_EQ(name_key("Breast_Cancer"), "breast_cancer");
}

}  // namespace
}  // namespace vigil
