#include "records/hypnogram.h"

#include "records/record_file.h"

namespace vigil::records {

SleepStats sleep_stats(std::span<const int8_t> stages) {
  SleepStats s;
  s.epochs = static_cast<int64_t>(stages.size());
  std::optional<int64_t> first_asleep;
  for (size_t i = 0; i < stages.size(); ++i) {
    const int64_t at = static_cast<int64_t>(i) * kEpochSeconds;
    switch (stages[i]) {
      case 0: s.wake_s += kEpochSeconds; break;
      case 1: s.n1_s += kEpochSeconds; break;
      case 2: s.n2_s += kEpochSeconds; break;
      case 3: s.n3_s += kEpochSeconds; break;
      case 4:
        s.rem_s += kEpochSeconds;
        if (first_asleep && !s.rem_latency_s) s.rem_latency_s = at - *first_asleep;
        break;
      default: s.artefact_s += kEpochSeconds; break;
    }
    if (stages[i] >= 1 && stages[i] <= 4 && !first_asleep) {
      first_asleep = at;
      s.sleep_latency_s = at;
      if (stages[i] == 4) s.rem_latency_s = 0;
    }
  }
  s.asleep_s = s.n1_s + s.n2_s + s.n3_s + s.rem_s;
  const int64_t scored = s.asleep_s + s.wake_s;
  if (scored > 0) s.efficiency = static_cast<double>(s.asleep_s) / static_cast<double>(scored);
  return s;
}

}  // namespace vigil::records
