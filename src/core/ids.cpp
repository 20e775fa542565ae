#include "core/ids.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

namespace vigil {
namespace {

constexpr char kBase32[] = "0123456789abcdefghijklmnopqrstuv";

// 6 base-32 characters: 30 random bits.
std::string process_prefix() {
  uint32_t r = sodium_init() < 0 ? 0 : randombytes_random();
  std::string out(6, '0');
  for (int i = 5; i >= 0; --i, r >>= 5) out[i] = kBase32[r & 31];
  return out;
}

}  // namespace

std::string new_request_id() {
  static const std::string kPrefix = process_prefix();
  static std::atomic<uint64_t> counter{0};
  uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  // 15 characters, so the string holds it inline (no allocation, here or in its copies).
  char out[15];
  std::memcpy(out, kPrefix.data(), 6);
  for (int i = 14; i >= 6; --i, n >>= 5) out[i] = kBase32[n & 31];
  return std::string(out, sizeof out);
}

std::string random_token(size_t bytes) {
  if (sodium_init() < 0) return {};
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

void append_rfc3339(std::string& out, std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = floor<milliseconds>(t).time_since_epoch().count();
  auto days = floor<std::chrono::days>(t);
  year_month_day ymd{days};
  int64_t ms_of_day = ms - duration_cast<milliseconds>(days.time_since_epoch()).count();
  int y = std::clamp(static_cast<int>(ymd.year()), 0, 9999);
  unsigned mo = static_cast<unsigned>(ymd.month()), d = static_cast<unsigned>(ymd.day());
  auto sec = ms_of_day / 1000, milli = ms_of_day % 1000;
  unsigned h = static_cast<unsigned>(sec / 3600), mi = static_cast<unsigned>(sec / 60 % 60),
           s = static_cast<unsigned>(sec % 60);
  char buf[24];
  char* p = buf;
  auto digits = [&p](int64_t v, int n) {
    for (int i = n - 1; i >= 0; --i, v /= 10) p[i] = static_cast<char>('0' + v % 10);
    p += n;
  };
  auto sep = [&p](char c) { *p++ = c; };
  digits(y, 4), sep('-'), digits(mo, 2), sep('-'), digits(d, 2), sep('T');
  digits(h, 2), sep(':'), digits(mi, 2), sep(':'), digits(s, 2), sep('.'), digits(milli, 3);
  sep('Z');
  out.append(buf, sizeof buf);
}

std::chrono::system_clock::time_point system_time_of(std::chrono::steady_clock::time_point t) {
  struct Pair {
    std::chrono::steady_clock::time_point steady{};
    std::chrono::system_clock::time_point system{};
    bool set = false;
  };
  thread_local Pair pair;
  if (!pair.set || t - pair.steady > std::chrono::seconds(1) ||
      pair.steady - t > std::chrono::seconds(1)) {
    pair.steady = std::chrono::steady_clock::now();
    pair.system = std::chrono::system_clock::now();
    pair.set = true;
  }
  return pair.system +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(t - pair.steady);
}

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  std::string out;
  out.reserve(24);
  append_rfc3339(out, t);
  return out;
}

namespace {
// system_clock counts nanoseconds in 64 bits: about 292 years either side of 1970. Timestamps
// beyond ±9e9 s (years 1684-2255) are refused rather than overflowed.
constexpr int64_t kMaxTimestampSeconds = 9'000'000'000;
}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view t) {
  using namespace std::chrono;
  if (!t.empty() && t.size() <= 16 && t.find_first_not_of("0123456789") == std::string_view::npos) {
    int64_t ms = 0;
    for (char c : t) ms = ms * 10 + (c - '0');
    if (ms > kMaxTimestampSeconds * 1000) return std::nullopt;
    return system_clock::time_point(milliseconds(ms));
  }
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > t.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int year, mon, day, hour, min, sec;
  if (!digits(0, 4, year) || t.size() < 20 || t[4] != '-' || !digits(5, 2, mon) || t[7] != '-' ||
      !digits(8, 2, day) || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') ||
      !digits(11, 2, hour) || t[13] != ':' || !digits(14, 2, min) || t[16] != ':' ||
      !digits(17, 2, sec)) {
    return std::nullopt;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int64_t scale = 100000000;
    size_t start = pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      nanos += (t[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' ||
        !digits(pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (t[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  time_t secs = timegm(&tm);
  if (secs > kMaxTimestampSeconds || secs < -kMaxTimestampSeconds) return std::nullopt;
  return system_clock::time_point(seconds(secs) - minutes(offset_minutes) +
                                  duration_cast<system_clock::duration>(nanoseconds(nanos)));
}

std::string sha256_hex(std::string_view data) {
  // SHA256() fetches the algorithm on every call in OpenSSL 3 (a locked table lookup that cost
  // more than hashing a token): fetch it once, and keep one context per thread.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                           &EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1 || len != 32) {
    // Out of memory inside OpenSSL: the one-shot call still works, only slower.
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  }
  static const char* kHex = "0123456789abcdef";
  std::string out(64, '\0');
  for (size_t i = 0; i < 32; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace vigil
