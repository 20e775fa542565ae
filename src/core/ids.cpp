#include "core/ids.h"

#include <openssl/sha.h>
#include <sodium.h>

#include <atomic>
#include <cstdio>
#include <ctime>

namespace vigil {
namespace {

std::string process_prefix() {
  if (sodium_init() < 0) return "00000000";
  uint32_t r = randombytes_random();
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", r);
  return buf;
}

}  // namespace

std::string new_request_id() {
  static const std::string kPrefix = process_prefix();
  static std::atomic<uint64_t> counter{0};
  uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%012llx", kPrefix.c_str(),
                static_cast<unsigned long long>(n & 0xffffffffffffULL));
  return buf;
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

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  if (millis < 0) {
    millis += 1000;
    secs -= std::chrono::seconds(1);
  }
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace vigil
