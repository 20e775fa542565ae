// Downsampling a signal for plotting without losing its spikes: samples are grouped into
// buckets of `step` consecutive samples, and each bucket keeps its minimum and maximum, so a
// zoomed-out plot of the envelope shows every extreme a full-resolution one would. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace vigil::records {

struct Envelope {
  int64_t first = 0;  // index of the first sample of bucket 0
  int64_t step = 1;   // samples per bucket (1: the samples themselves, min == max)
  // Per bucket; NaN samples are skipped, and a bucket of NaN only is NaN (a gap).
  std::vector<float> min, max;
};

// At most max_points buckets (max_points >= 1) over `samples`, whose first has index `first`.
// step = ceil(samples.size() / max_points).
Envelope envelope(std::span<const float> samples, int64_t first, size_t max_points);

}  // namespace vigil::records
