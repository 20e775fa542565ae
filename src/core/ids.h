// Identifiers and randomness: request ids (unique per process, cheap), random secrets
// (libsodium CSPRNG), and UTC timestamps in RFC 3339.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

// 15 characters of [0-9a-v]: a per-process random prefix (6, 30 bits) and a counter (9, 45
// bits: 11 years at 100 000 requests a second). Unique, not secret. Thread-safe. Short enough
// for std::string to keep inline.
std::string new_request_id();

// `bytes` random bytes from the OS CSPRNG, base64url without padding.
std::string random_token(size_t bytes = 32);

// "2026-11-23T10:15:30.123Z" (UTC, milliseconds; years 0000-9999). No locale, no allocation
// beyond the result: the audit writer formats one per record.
std::string format_rfc3339(std::chrono::system_clock::time_point t);
void append_rfc3339(std::string& out, std::chrono::system_clock::time_point t);
// Epoch milliseconds as RFC 3339 (UTC, milliseconds).
inline std::string format_epoch_ms(int64_t ms) {
  return format_rfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}
inline std::string now_rfc3339() { return format_rfc3339(std::chrono::system_clock::now()); }

// The wall-clock time of a steady_clock reading, from a per-thread pair of readings of both
// clocks taken within a second of `t` (so most calls read no clock, where
// system_clock::now() is ~30-50 ns on the bench VM). A step of the wall clock shows within a
// second. Thread-safe.
std::chrono::system_clock::time_point system_time_of(std::chrono::steady_clock::time_point t);

// Parses RFC 3339 ("2026-11-23T10:15:30Z", fractional seconds and ±hh:mm offsets allowed) or
// Unix epoch milliseconds given as digits. nullopt when it is neither, or outside the years
// 1684-2255 (what a system_clock time_point holds).
std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text);

// Lowercase hex SHA-256 of data.
std::string sha256_hex(std::string_view data);

}  // namespace vigil
