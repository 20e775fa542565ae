// Outside input: a series chunk as the store hands it back (telemetry::decode_chunk), which a
// damaged database or another writer's bug could make anything. What decodes re-encodes to
// the same points, bit for bit.
#include <bit>
#include <cstdint>
#include <string_view>

#include "telemetry/series_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vigil::telemetry::Point;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<Point> points;
  if (!vigil::telemetry::decode_chunk(input, points).ok()) return 0;
  if (points.empty() || points.size() > vigil::telemetry::kMaxChunkPoints) __builtin_trap();
  for (size_t i = 1; i < points.size(); ++i) {
    if (points[i - 1].at_ms >= points[i].at_ms) __builtin_trap();
  }
  std::vector<Point> again;
  if (!vigil::telemetry::decode_chunk(vigil::telemetry::encode_chunk(points), again).ok()) {
    __builtin_trap();
  }
  if (again.size() != points.size()) __builtin_trap();
  for (size_t i = 0; i < points.size(); ++i) {
    if (again[i].at_ms != points[i].at_ms ||
        std::bit_cast<uint64_t>(again[i].value) != std::bit_cast<uint64_t>(points[i].value)) {
      __builtin_trap();
    }
  }
  return 0;
}
