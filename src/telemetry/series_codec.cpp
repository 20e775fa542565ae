#include "telemetry/series_codec.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <optional>

namespace vigil::telemetry {
namespace {

enum Kind : uint8_t { kXor = 1, kDecimal = 2 };
constexpr int kMaxDecimals = 9;

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t z) { return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1)); }

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

class BitWriter {
 public:
  explicit BitWriter(std::string& out) : out_(out) {}
  // The low `n` bits of `v`, most significant first (n ≤ 64).
  void put(uint64_t v, int n) {
    if (n == 0) return;
    if (n < 64) v &= (uint64_t{1} << n) - 1;
    const int room = 64 - used_;
    if (n <= room) {
      acc_ |= n == 64 ? v : v << (room - n);
      used_ += n;
      if (used_ == 64) flush_word();
      return;
    }
    acc_ |= v >> (n - room);
    used_ = 64;
    flush_word();
    const int rest = n - room;
    acc_ = v << (64 - rest);
    used_ = rest;
  }
  void finish() {
    for (int shift = 56; used_ > 0; shift -= 8, used_ -= 8) {
      out_.push_back(static_cast<char>(acc_ >> shift));
    }
    used_ = 0;
    acc_ = 0;
  }

 private:
  void flush_word() {
    for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(acc_ >> shift));
    acc_ = 0;
    used_ = 0;
  }
  std::string& out_;
  uint64_t acc_ = 0;
  int used_ = 0;  // bits of acc_ in use, from the top
};

class BitReader {
 public:
  explicit BitReader(std::string_view in) : in_(in) {}
  bool failed() const { return failed_; }
  uint64_t get(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 1) | bit();
    return v;
  }
  uint64_t bit() {
    if (pos_ >= in_.size() * 8) {
      failed_ = true;
      return 0;
    }
    const auto byte = static_cast<uint8_t>(in_[pos_ / 8]);
    const uint64_t b = (byte >> (7 - pos_ % 8)) & 1;
    ++pos_;
    return b;
  }
  // Whether only zero padding of the last byte is left.
  bool at_end() const {
    if ((pos_ + 7) / 8 != in_.size()) return false;
    if (pos_ % 8 == 0) return true;
    const auto last = static_cast<uint8_t>(in_.back());
    return (last & ((1u << (8 - pos_ % 8)) - 1)) == 0;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// A signed number in a few bits when small: 0 → "0"; else its zigzag in 7, 12, 20, 32 or 64
// bits after "10", "110", "1110", "11110", "11111".
void put_small(BitWriter& w, int64_t v) {
  if (v == 0) return w.put(0, 1);
  const uint64_t z = zigzag(v);
  if (z < (uint64_t{1} << 7)) return w.put(0b10, 2), w.put(z, 7);
  if (z < (uint64_t{1} << 12)) return w.put(0b110, 3), w.put(z, 12);
  if (z < (uint64_t{1} << 20)) return w.put(0b1110, 4), w.put(z, 20);
  if (z < (uint64_t{1} << 32)) return w.put(0b11110, 5), w.put(z, 32);
  w.put(0b11111, 5);
  w.put(z, 64);
}

int64_t get_small(BitReader& r) {
  int ones = 0;
  while (ones < 5 && r.bit() == 1) ++ones;
  static constexpr int kBits[] = {0, 7, 12, 20, 32, 64};
  return ones == 0 ? 0 : unzigzag(r.get(kBits[ones]));
}

double power_of_ten(int k) {
  static constexpr double kPowers[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  return kPowers[k];
}

bool same_bits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

// The integer v is over 10^k, when it is one exactly (and small enough to be exact).
std::optional<int64_t> scaled(double v, int k) {
  const double p = power_of_ten(k);
  const double x = v * p;
  if (!(std::fabs(x) < 9.0e15)) return std::nullopt;  // also NaN
  const auto i = static_cast<int64_t>(std::llround(x));
  if (!same_bits(static_cast<double>(i) / p, v)) return std::nullopt;
  return i;
}

// The fewest decimals that code every value exactly; none when the chunk needs xor.
std::optional<int> decimals_of(std::span<const Point> points) {
  int k = 0;
  for (const Point& p : points) {
    while (k <= kMaxDecimals && !scaled(p.value, k)) ++k;
    if (k > kMaxDecimals) return std::nullopt;
  }
  for (const Point& p : points) {
    if (!scaled(p.value, k)) return std::nullopt;  // (rare: exact at a smaller k only)
  }
  return k;
}

void put_xor_values(BitWriter& w, std::span<const Point> points) {
  uint64_t prev = std::bit_cast<uint64_t>(points[0].value);
  w.put(prev, 64);
  int lead = -1, trail = 0;  // the window of the previous meaningful bits; -1: none yet
  for (size_t i = 1; i < points.size(); ++i) {
    const uint64_t cur = std::bit_cast<uint64_t>(points[i].value);
    const uint64_t x = cur ^ prev;
    prev = cur;
    if (x == 0) {
      w.put(0, 1);
      continue;
    }
    const int l = std::min(std::countl_zero(x), 31);
    const int t = std::countr_zero(x);
    if (lead >= 0 && l >= lead && t >= trail) {
      w.put(0b10, 2);
      w.put(x >> trail, 64 - lead - trail);
      continue;
    }
    lead = l;
    trail = t;
    const int len = 64 - l - t;
    w.put(0b11, 2);
    w.put(static_cast<uint64_t>(l), 5);
    w.put(static_cast<uint64_t>(len - 1), 6);
    w.put(x >> t, len);
  }
}

bool get_xor_values(BitReader& r, size_t n, std::vector<Point>& out, size_t first) {
  uint64_t prev = r.get(64);
  out[first].value = std::bit_cast<double>(prev);
  int lead = -1, trail = 0;
  for (size_t i = 1; i < n && !r.failed(); ++i) {
    if (r.bit() == 1) {
      if (r.bit() == 1) {
        lead = static_cast<int>(r.get(5));
        const int len = static_cast<int>(r.get(6)) + 1;
        trail = 64 - lead - len;
        if (trail < 0) return false;
      } else if (lead < 0) {
        return false;  // a reuse of a window before any
      }
      const int len = 64 - lead - trail;
      prev ^= r.get(len) << trail;
    }
    out[first + i].value = std::bit_cast<double>(prev);
  }
  return !r.failed();
}

Status malformed_chunk(std::string_view why) {
  return invalid_argument("not a series chunk: " + std::string(why));
}

bool get_varint(std::string_view in, size_t& at, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at >= in.size()) return false;
    const auto b = static_cast<uint8_t>(in[at++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

struct Header {
  Kind kind = kXor;
  int decimals = 0;
  size_t n = 0;
  int64_t t0 = 0;
  size_t bits_at = 0;  // where the bit stream starts
};

Expected<Header> read_header(std::string_view chunk) {
  Header h;
  size_t at = 0;
  if (chunk.empty()) return malformed_chunk("empty");
  const auto kind = static_cast<uint8_t>(chunk[at++]);
  if (kind == kDecimal) {
    if (at >= chunk.size()) return malformed_chunk("cut short");
    h.decimals = static_cast<uint8_t>(chunk[at++]);
    if (h.decimals > kMaxDecimals) return malformed_chunk("too many decimals");
  } else if (kind != kXor) {
    return malformed_chunk("unknown kind");
  }
  h.kind = static_cast<Kind>(kind);
  uint64_t n = 0, t0 = 0;
  if (!get_varint(chunk, at, n) || !get_varint(chunk, at, t0)) return malformed_chunk("cut short");
  if (n == 0 || n > kMaxChunkPoints) return malformed_chunk("bad point count");
  h.n = static_cast<size_t>(n);
  h.t0 = unzigzag(t0);
  h.bits_at = at;
  return h;
}

}  // namespace

void normalize(std::vector<Point>& points) {
  // Already in order with distinct times (a device's batch, or one normalized before): as is.
  if (std::adjacent_find(points.begin(), points.end(), [](const Point& a, const Point& b) {
        return a.at_ms >= b.at_ms;
      }) == points.end()) {
    return;
  }
  std::stable_sort(points.begin(), points.end(),
                   [](const Point& a, const Point& b) { return a.at_ms < b.at_ms; });
  // Keep the last of each run of equal times.
  size_t out = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    if (i + 1 < points.size() && points[i + 1].at_ms == points[i].at_ms) continue;
    points[out++] = points[i];
  }
  points.resize(out);
}

std::string encode_chunk(std::span<const Point> points) {
  assert(!points.empty() && points.size() <= kMaxChunkPoints);
  std::string out;
  out.reserve(16 + points.size() * 3);
  const std::optional<int> decimals = decimals_of(points);
  out.push_back(static_cast<char>(decimals ? kDecimal : kXor));
  if (decimals) out.push_back(static_cast<char>(*decimals));
  put_varint(out, points.size());
  put_varint(out, zigzag(points[0].at_ms));
  BitWriter w(out);
  // Times: the first delta, then deltas of deltas (wrapping, so any int64 times code).
  uint64_t prev_delta = 0;
  for (size_t i = 1; i < points.size(); ++i) {
    const uint64_t delta =
        static_cast<uint64_t>(points[i].at_ms) - static_cast<uint64_t>(points[i - 1].at_ms);
    put_small(w, static_cast<int64_t>(delta - prev_delta));
    prev_delta = delta;
  }
  if (decimals) {
    uint64_t prev = 0;
    for (const Point& p : points) {
      const auto v = static_cast<uint64_t>(*scaled(p.value, *decimals));
      put_small(w, static_cast<int64_t>(v - prev));
      prev = v;
    }
  } else {
    put_xor_values(w, points);
  }
  w.finish();
  return out;
}

Status decode_chunk(std::string_view chunk, std::vector<Point>& out) {
  auto h = read_header(chunk);
  if (!h.ok()) return h.status();
  const size_t first = out.size();
  out.resize(first + h->n);
  BitReader r(chunk.substr(h->bits_at));
  out[first].at_ms = h->t0;
  uint64_t t = static_cast<uint64_t>(h->t0), delta = 0;
  for (size_t i = 1; i < h->n; ++i) {
    delta += static_cast<uint64_t>(get_small(r));
    const uint64_t next = t + delta;
    if (r.failed() || static_cast<int64_t>(next) <= static_cast<int64_t>(t)) {
      out.resize(first);
      return malformed_chunk(r.failed() ? "cut short" : "times not increasing");
    }
    t = next;
    out[first + i].at_ms = static_cast<int64_t>(t);
  }
  bool ok = true;
  if (h->kind == kDecimal) {
    const double p = power_of_ten(h->decimals);
    uint64_t v = 0;
    for (size_t i = 0; i < h->n && !r.failed(); ++i) {
      v += static_cast<uint64_t>(get_small(r));
      out[first + i].value = static_cast<double>(static_cast<int64_t>(v)) / p;
    }
    ok = !r.failed();
  } else {
    ok = get_xor_values(r, h->n, out, first);
  }
  if (!ok || !r.at_end()) {
    out.resize(first);
    return malformed_chunk(ok ? "bytes after the points" : "cut short");
  }
  return {};
}

Expected<size_t> chunk_size(std::string_view chunk) {
  auto h = read_header(chunk);
  if (!h.ok()) return h.status();
  return h->n;
}

}  // namespace vigil::telemetry
