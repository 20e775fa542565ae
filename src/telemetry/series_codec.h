// The compressed chunk: how a run of one sensor's points is stored (series_chunks.data).
//
// Times are Unix epoch milliseconds, coded as Facebook Gorilla codes them: the first in full,
// then the delta of deltas in a few bits (0 for a regular sampling interval). Values are coded
// one of two ways, whichever the chunk allows:
//  - decimal: when every value is an integer over 10^k for one k in 0..9 (sensor readings with a
//    few decimals: 0.25, 12.3, 400), as those integers' deltas in the same short codes;
//  - xor: Gorilla's XOR of each value with the previous one (any double, NaN and infinities
//    included, bit for bit).
// Both are lossless: a chunk decodes to exactly the doubles encoded (-0.0 and NaN payloads too).
//
// Pure functions, no I/O; thread-safe. decode_chunk() takes bytes from the store or anywhere
// else and never reads past them: a malformed chunk is kInvalidArgument.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::telemetry {

struct Point {
  int64_t at_ms = 0;
  double value = 0;
  bool operator==(const Point&) const = default;
};

// The most points one chunk holds (a decoder refuses a count above it).
inline constexpr size_t kMaxChunkPoints = 1 << 16;

// Sorts by time and keeps the last point given for each time (a re-sent point is stored once;
// a corrected one replaces it). Stable: of equal times, the one latest in `points` stays.
void normalize(std::vector<Point>& points);

// The chunk of `points`: sorted by time, distinct times (normalize()), 1..kMaxChunkPoints.
std::string encode_chunk(std::span<const Point> points);

// Appends the chunk's points to `out` (in time order). kInvalidArgument for bytes that are not a
// chunk (then `out` may have gained some points).
Status decode_chunk(std::string_view chunk, std::vector<Point>& out);

// The number of points in a chunk, from its header alone; kInvalidArgument when unreadable.
Expected<size_t> chunk_size(std::string_view chunk);

}  // namespace vigil::telemetry
