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

}  // namespace
}  // namespace vigil
