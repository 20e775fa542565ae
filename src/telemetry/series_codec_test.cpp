#include "telemetry/series_codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace vigil::telemetry {
namespace {

constexpr int64_t kT0 = 1'601'469'000'000;  // 2020-09-30T12:30:00Z
constexpr int64_t kTenMinutes = 600'000;

std::vector<Point> round_trip(const std::vector<Point>& points, size_t* bytes = nullptr) {
  const std::string chunk = encode_chunk(points);
  if (bytes != nullptr) *bytes = chunk.size();
  std::vector<Point> out;
  Status s = decode_chunk(chunk, out);
  EXPECT_TRUE(s.ok()) << s.to_string();
  auto n = chunk_size(chunk);
  EXPECT_TRUE(n.ok() && *n == points.size());
  return out;
}

// Bit for bit: NaN payloads and -0.0 compare equal only this way.
void expect_same(const std::vector<Point>& a, const std::vector<Point>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].at_ms, b[i].at_ms) << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(a[i].value), std::bit_cast<uint64_t>(b[i].value))
        << i << ": " << a[i].value << " vs " << b[i].value;
  }
}

TEST(SeriesCodec, RegularDecimalReadingsTakeAboutAByteAPoint) {
  std::mt19937_64 rng(1);
  std::vector<Point> points;
  int64_t hundredths = 4000;  // 40.00 ppmv, a random walk in steps of 0.01
  for (int i = 0; i < 4096; ++i) {
    hundredths += static_cast<int64_t>(rng() % 21) - 10;
    points.push_back({kT0 + i * kTenMinutes, static_cast<double>(hundredths) / 100});
  }
  size_t bytes = 0;
  expect_same(round_trip(points, &bytes), points);
  EXPECT_LT(static_cast<double>(bytes) / points.size(), 1.5) << bytes;
}

TEST(SeriesCodec, ConstantStretchesAndIntegersAreNearlyFree) {
  std::vector<Point> points;
  for (int i = 0; i < 1000; ++i) points.push_back({kT0 + i * 1000, i < 500 ? 0.0 : 400.0});
  size_t bytes = 0;
  expect_same(round_trip(points, &bytes), points);
  EXPECT_LT(bytes, 300u);
}

TEST(SeriesCodec, AnyDoubleRoundTripsBitForBit) {
  std::mt19937_64 rng(2);
  std::vector<Point> points;
  const double specials[] = {0.0,
                             -0.0,
                             std::numeric_limits<double>::quiet_NaN(),
                             -std::numeric_limits<double>::quiet_NaN(),
                             std::bit_cast<double>(uint64_t{0x7ff0000000000123}),  // NaN payload
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::lowest(),
                             1e300,
                             0.1,
                             1.0 / 3};
  int64_t t = -5'000;
  for (int i = 0; i < 3000; ++i) {
    t += 1 + static_cast<int64_t>(rng() % 100'000);  // irregular times, before and after 1970
    const double v = i % 7 == 0 ? specials[rng() % std::size(specials)]
                                : std::bit_cast<double>(rng());  // any bits at all
    points.push_back({t, v});
  }
  expect_same(round_trip(points), points);
}

TEST(SeriesCodec, FullPrecisionAveragesRoundTrip) {
  // The leak sensors' values are averages: 38.59230769230769, 46.47083333333333, ...
  std::vector<Point> points;
  for (int i = 0; i < 500; ++i) {
    points.push_back({kT0 + i * kTenMinutes, 30.0 + std::sin(i * 0.1) * 100.0 / (i % 13 + 1)});
  }
  size_t bytes = 0;
  expect_same(round_trip(points, &bytes), points);
  EXPECT_LE(bytes, points.size() * 9);  // xor: never much worse than the raw value
}

TEST(SeriesCodec, ExtremeTimesAndSinglePoints) {
  const int64_t lo = std::numeric_limits<int64_t>::min();
  const int64_t hi = std::numeric_limits<int64_t>::max();
  expect_same(round_trip({{lo, 1.5}, {0, 2.5}, {hi, 3.5}}), {{lo, 1.5}, {0, 2.5}, {hi, 3.5}});
  expect_same(round_trip({{42, -7.25}}), {{42, -7.25}});
  expect_same(round_trip({{hi, std::nan("")}}), {{hi, std::nan("")}});
  // Values at the edge of the decimal coding: large integers, and ones just beyond it.
  expect_same(round_trip({{1, 8.9e15}, {2, -8.9e15}, {3, 9.1e15}}),
              {{1, 8.9e15}, {2, -8.9e15}, {3, 9.1e15}});
  expect_same(round_trip({{1, 1e-9}, {2, 123456.123456789}}), {{1, 1e-9}, {2, 123456.123456789}});
}

TEST(SeriesCodec, TheMostPointsAChunkHolds) {
  std::vector<Point> points;
  for (size_t i = 0; i < kMaxChunkPoints; ++i) {
    points.push_back({static_cast<int64_t>(i) * 7, static_cast<double>(i % 100)});
  }
  expect_same(round_trip(points), points);
}

TEST(SeriesCodec, NormalizeSortsAndKeepsTheLastOfEachTime) {
  std::vector<Point> points{{30, 3}, {10, 1}, {20, 2}, {10, 1.5}, {30, 3}, {20, 2.5}};
  normalize(points);
  EXPECT_EQ(points, (std::vector<Point>{{10, 1.5}, {20, 2.5}, {30, 3}}));
  std::vector<Point> none;
  normalize(none);
  EXPECT_TRUE(none.empty());
}

TEST(SeriesCodec, MalformedChunksAreRefusedNotRead) {
  std::vector<Point> points;
  for (int i = 0; i < 200; ++i) points.push_back({kT0 + i * 1000, i * 0.37});
  const std::string good = encode_chunk(points);
  std::vector<Point> out;
  EXPECT_EQ(decode_chunk("", out).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(decode_chunk("\x07", out).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(decode_chunk(std::string("\x02\x0a\x01\x00", 4), out).code(),
            ErrorCode::kInvalidArgument);  // 10 decimals
  EXPECT_EQ(decode_chunk(std::string("\x01\x00\x00", 3), out).code(),
            ErrorCode::kInvalidArgument);  // no points
  EXPECT_EQ(decode_chunk(std::string("\x01\xff\xff\xff\x7f\x00", 6), out).code(),
            ErrorCode::kInvalidArgument);  // too many points
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(decode_chunk(good.substr(0, cut), out).ok()) << cut;
  }
  EXPECT_FALSE(decode_chunk(good + "x", out).ok());
  EXPECT_TRUE(out.empty()) << "a refused chunk adds nothing";
  // Flipped bits either decode to something or are refused; never a crash (the fuzz target
  // goes further).
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::string bad = good;
    bad[rng() % bad.size()] ^= static_cast<char>(1 << (rng() % 8));
    out.clear();
    if (decode_chunk(bad, out).ok()) {
      for (size_t j = 1; j < out.size(); ++j) ASSERT_LT(out[j - 1].at_ms, out[j].at_ms);
    }
  }
}

TEST(SeriesCodec, DecodeAppends) {
  std::vector<Point> out{{1, 1}};
  ASSERT_TRUE(decode_chunk(encode_chunk(std::vector<Point>{{5, 2}, {6, 3}}), out).ok());
  EXPECT_EQ(out, (std::vector<Point>{{1, 1}, {5, 2}, {6, 3}}));
}

}  // namespace
}  // namespace vigil::telemetry
