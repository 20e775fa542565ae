// The "linear" runtime: a linear model written by hand or exported from any trainer, as JSON
//   {"weights": [w1, ..., wn], "bias": b, "link": "identity" | "logistic"}
// bias defaults to 0 and link to identity. predict = link(bias + Σ wᵢ·xᵢ), a missing value
// (NaN) contributing 0; explain = wᵢ·xᵢ per feature and the bias last, in margin space (before
// the link), like xgboost's contributions. Stateless after load, so thread-safe without locks.
#pragma once

#include "runtime/runtime.h"

namespace vigil::runtime {

// load() rejects, naming the field: non-JSON, a non-object, unknown keys, weights missing,
// empty, longer than kMaxWeights or holding anything but finite numbers, a non-finite bias, an
// unknown link, a file over kMaxBytes, and metadata "features" of another length than weights.
class LinearRuntime final : public Runtime {
 public:
  static constexpr std::string_view kName = "linear";
  static constexpr size_t kMaxWeights = 1'000'000;
  static constexpr size_t kMaxBytes = 64u << 20;

  std::string_view kind() const override { return kName; }
  Expected<std::unique_ptr<LoadedModel>> load(std::string_view bytes,
                                              const boost::json::object& metadata) const override;
};

}  // namespace vigil::runtime
