#include "core/json_text.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace vigil {
namespace {
namespace json = boost::json;

TEST(JsonTextTest, FractionsAreWrittenAsPeopleWriteThem) {
  json::value v = {{"balance", 1.5},        {"price", 0.001}, {"big", 123456.789},
                   {"whole", 2.0},          {"int", 7},       {"neg", -0.25},
                   {"s", "a\"b\n\u00e9"},   {"n", nullptr},   {"t", true},
                   {"list", {0.3, 1, "x"}}, {"tiny", 1e-300}, {"nan", std::nan("")}};
  EXPECT_EQ(json_text(v),
            "{\"balance\":1.5,\"price\":0.001,\"big\":123456.789,\"whole\":2.0,\"int\":7,"
            "\"neg\":-0.25,\"s\":\"a\\\"b\\n\u00e9\",\"n\":null,\"t\":true,"
            "\"list\":[0.3,1,\"x\"],\"tiny\":1e-300,\"nan\":null}");
}

// Whatever it writes reads back as the same value, doubles bit for bit (read with from_chars:
// boost::json's default parser is not exact in the last digit for some doubles).
TEST(JsonTextTest, ReadsBackAsTheSameValue) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    double d;
    uint64_t bits = rng();
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    const std::string text = json_text(json::value(d));
    double back = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), back);
    ASSERT_EQ(end, text.data() + text.size()) << text;
    ASSERT_EQ(back, d) << text;
    ASSERT_TRUE(json::parse(text).is_double()) << text;
  }
  json::value big = {{"u", std::numeric_limits<uint64_t>::max()},
                     {"i", std::numeric_limits<int64_t>::min()}};
  EXPECT_EQ(json::parse(json_text(big)), big);
}

// parse_json reads every double as itself, where boost::json::parse is 1 ulp off; the rest is
// boost's parse, its options and its errors.
TEST(JsonTextTest, ParseJsonReadsDoublesExactly) {
  boost::system::error_code ec;
  const json::value off = json::parse("8.888888888888889E77");
  const json::value v = parse_json("8.888888888888889E77", ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(v.as_double(), 8.888888888888889E77);  // the compiler rounds correctly
  EXPECT_NE(off.as_double(), v.as_double()) << "boost 1.81 is exact here now: drop parse_json?";
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    double d;
    uint64_t bits = rng();
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    const std::string text = "{\"a\":[1,-2.5e-3,{\"x\":" + json_text(json::value(d)) + "}]}";
    const json::value back = parse_json(text, ec);
    ASSERT_FALSE(ec) << text;
    ASSERT_EQ(back.at("a").at(2).at("x").as_double(), d) << text;
  }
  const json::value mixed = parse_json(
      R"({"u":18446744073709551615,"i":-9223372036854775808,"s":"\u00e9","t":true,"n":null,)"
      R"("e":[],"big":1e400})",
      ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(mixed.at("u").as_uint64(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(mixed.at("i").as_int64(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(mixed.at("s").as_string(), "\u00e9");
  EXPECT_TRUE(mixed.at("n").is_null());
  EXPECT_EQ(mixed.at("big"), json::parse("1e400"));  // out of range: as boost reads it
  EXPECT_TRUE(parse_json("{\"a\":1", ec).is_null());
  EXPECT_TRUE(ec);
  EXPECT_TRUE(parse_json("1 2", ec).is_null());
  EXPECT_EQ(ec, json::error::extra_data);
  json::parse_options shallow;
  shallow.max_depth = 2;
  EXPECT_TRUE(parse_json("[[[1]]]", ec, shallow).is_null());
  EXPECT_EQ(ec, json::error::too_deep);
  std::error_code std_ec;  // the same with a std::error_code
  EXPECT_EQ(parse_json("[8.888888888888889E77]", std_ec).at(0).as_double(), 8.888888888888889E77);
  EXPECT_FALSE(std_ec);
  EXPECT_TRUE(parse_json("[", std_ec).is_null());
  EXPECT_TRUE(std_ec);
}

}  // namespace
}  // namespace vigil
