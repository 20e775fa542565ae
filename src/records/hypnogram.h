// What a hypnogram says (issue 18, "queryable hypnograms"): the time spent in each stage and the
// sleep efficiency, from the stages of 30 s epochs (record_file.h). Pure computation.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace vigil::records {

struct SleepStats {
  int64_t epochs = 0;
  // Seconds in each stage.
  int64_t artefact_s = 0, wake_s = 0, n1_s = 0, n2_s = 0, n3_s = 0, rem_s = 0;
  int64_t asleep_s = 0;  // N1 + N2 + N3 + REM
  // Asleep over the time in bed the hypnogram covers less its artefacts (0-1); nullopt when
  // that is no time at all.
  std::optional<double> efficiency;
  // Seconds from the first epoch to the first asleep one, and from there to the first REM one;
  // nullopt when it never happens.
  std::optional<int64_t> sleep_latency_s, rem_latency_s;
};

// Stages outside -1..4 count as artefacts.
SleepStats sleep_stats(std::span<const int8_t> stages);

}  // namespace vigil::records
