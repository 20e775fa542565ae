#include "records/signal_codec.h"

#include <gtest/gtest.h>
#include <zlib.h>

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

// What HDF5's gzip filter writes for a chunk of float32: a zlib stream of the chunk's bytes.
std::string zlib_of(const std::vector<float>& x) {
  uLongf size = compressBound(static_cast<uLong>(x.size() * sizeof(float)));
  std::string out(size, '\0');
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                      reinterpret_cast<const Bytef*>(x.data()),
                      static_cast<uLong>(x.size() * sizeof(float)), 4),
            Z_OK);
  out.resize(size);
  return out;
}

TEST(SignalCodecTest, AFilesDeflatedChunkIsKeptAndDecodedUpToItsCount) {
  std::vector<float> x(7032);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i) / 9) * 20;
  x[3] = std::bit_cast<float>(0x7fc12345u);
  auto whole = keep_zlib_chunk(zlib_of(x), 7032, 7032);
  ASSERT_TRUE(whole.ok()) << whole.status().to_string();
  EXPECT_EQ(signal_chunk_count(*whole), 7032u);
  std::vector<float> back{-1};
  ASSERT_TRUE(decode_signal_chunk(*whole, back).ok());
  back.erase(back.begin());
  expect_same_bits(x, back);
  // The last chunk of a dataset: whole in the file, only its first samples are the channel's.
  auto edge = keep_zlib_chunk(zlib_of(x), 100, 7032);
  ASSERT_TRUE(edge.ok());
  back.clear();
  ASSERT_TRUE(decode_signal_chunk(*edge, back).ok());
  expect_same_bits(std::vector<float>(x.begin(), x.begin() + 100), back);
}

TEST(SignalCodecTest, AFilesDamagedOrMislabelledChunkIsRefused) {
  std::vector<float> x(1000, 2.5f);
  const std::string z = zlib_of(x);
  EXPECT_FALSE(keep_zlib_chunk(z, 1000, 1001).ok());  // inflates to fewer bytes than it says
  EXPECT_FALSE(keep_zlib_chunk(z, 1000, 999).ok());   // count past full
  EXPECT_FALSE(keep_zlib_chunk(z, 0, 1000).ok());
  EXPECT_FALSE(keep_zlib_chunk(z.substr(0, z.size() - 2), 1000, 1000).ok());
  std::string flipped = z;
  flipped[flipped.size() / 2] ^= 0x20;
  EXPECT_FALSE(keep_zlib_chunk(flipped, 1000, 1000).ok());
  EXPECT_EQ(signal_chunk_count("RS"), 0u);
  // A stored chunk damaged after the fact is refused when read, and adds nothing.
  auto kept = keep_zlib_chunk(z, 1000, 1000);
  ASSERT_TRUE(kept.ok());
  std::vector<float> out{7};
  std::string damaged = *kept;
  damaged[damaged.size() - 3] ^= 0x01;  // the stream's checksum
  EXPECT_EQ(decode_signal_chunk(damaged, out).code(), ErrorCode::kInvalidArgument);
  std::string full_below_count = *kept;
  full_below_count[8] = 1;  // full: 1000 (e8 03) -> 1
  full_below_count[9] = 0;
  EXPECT_FALSE(decode_signal_chunk(full_below_count, out).ok());
  EXPECT_FALSE(decode_signal_chunk(kept->substr(0, 10), out).ok());
  EXPECT_EQ(out, std::vector<float>{7});
}

}  // namespace
}  // namespace vigil::records
