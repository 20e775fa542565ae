#include "records/signal_codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace vigil::records {
namespace {

void expect_same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(std::bit_cast<uint32_t>(a[i]), std::bit_cast<uint32_t>(b[i])) << i;
  }
}

TEST(SignalCodecTest, RoundTripsBitForBit) {
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0, 30);
  std::vector<float> x(kSignalChunkSamples);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 40 * std::sin(i / 25.0f) + noise(rng);
  x[5] = std::numeric_limits<float>::quiet_NaN();
  x[6] = -0.0f;
  x[7] = std::numeric_limits<float>::infinity();
  x[8] = std::numeric_limits<float>::denorm_min();
  x[9] = std::bit_cast<float>(0x7fc12345u);  // a NaN with a payload
  std::vector<float> back;
  ASSERT_TRUE(decode_signal_chunk(encode_signal_chunk(x), back).ok());
  expect_same_bits(x, back);
}

TEST(SignalCodecTest, ASmoothSignalShrinksAndAppends) {
  std::vector<float> x(1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 50);
  const std::string c = encode_signal_chunk(x);
  EXPECT_LT(c.size(), x.size());  // under a byte a sample
  std::vector<float> back{42};
  ASSERT_TRUE(decode_signal_chunk(c, back).ok());
  ASSERT_EQ(back.size(), 1001u);
  EXPECT_EQ(back[0], 42);
  EXPECT_EQ(back[51], 0);
  std::vector<float> one{1.5f};
  back.clear();
  ASSERT_TRUE(decode_signal_chunk(encode_signal_chunk(one), back).ok());
  expect_same_bits(one, back);
}

TEST(SignalCodecTest, MalformedChunksAreRefused) {
  std::vector<float> x(300, 1.25f);
  const std::string c = encode_signal_chunk(x);
  std::vector<float> out;
  EXPECT_FALSE(decode_signal_chunk("", out).ok());
  EXPECT_FALSE(decode_signal_chunk(c.substr(0, 7), out).ok());
  EXPECT_FALSE(decode_signal_chunk(c.substr(0, c.size() - 1), out).ok());
  std::string bad_count = c;
  bad_count[6] = '\x7f';  // 8 M samples
  EXPECT_FALSE(decode_signal_chunk(bad_count, out).ok());
  std::string bad_method = c;
  bad_method[3] = 9;
  EXPECT_FALSE(decode_signal_chunk(bad_method, out).ok());
  std::string planes = "RS1";
  planes += '\0';
  planes += std::string("\x02\0\0\0", 4);
  planes += std::string(7, 'x');  // 2 samples need 8 bytes
  EXPECT_EQ(decode_signal_chunk(planes, out).code(), ErrorCode::kInvalidArgument);
  planes += 'x';
  EXPECT_TRUE(decode_signal_chunk(planes, out).ok());
}

}  // namespace
}  // namespace vigil::records
