#include "records/envelope.h"

#include <cmath>
#include <limits>

namespace vigil::records {

Envelope envelope(std::span<const float> samples, int64_t first, size_t max_points) {
  Envelope e;
  e.first = first;
  if (samples.empty()) return e;
  if (max_points == 0) max_points = 1;
  const size_t step = (samples.size() + max_points - 1) / max_points;
  e.step = static_cast<int64_t>(step);
  const size_t buckets = (samples.size() + step - 1) / step;
  e.min.resize(buckets);
  e.max.resize(buckets);
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  for (size_t b = 0; b < buckets; ++b) {
    const size_t end = std::min(samples.size(), (b + 1) * step);
    float lo = std::numeric_limits<float>::infinity();
    float hi = -std::numeric_limits<float>::infinity();
    bool any = false;
    for (size_t i = b * step; i < end; ++i) {
      const float v = samples[i];
      if (std::isnan(v)) continue;
      any = true;
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    e.min[b] = any ? lo : kNaN;
    e.max[b] = any ? hi : kNaN;
  }
  return e;
}

}  // namespace vigil::records
