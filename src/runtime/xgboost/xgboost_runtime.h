// The "xgboost" runtime: XGBoost JSON or UBJ model files (any objective), served through
// libxgboost's C API.
//
// Thread-safety: predict() uses in-place prediction (XGBoosterPredictFromDense), which
// libxgboost documents as safe to call from many threads at once on one booster, so predict()
// only takes a shared lock. explain() goes through a DMatrix (in-place prediction has no
// contributions in 1.7), which is not safe concurrently with other booster calls, so it takes
// the model's lock exclusively: explains of one model run one at a time.
//
// Each booster computes with threads_per_model threads (XGBoost's "nthread", default 1):
// parallelism comes from serving several requests/batches at once, not from one large call.
//
// libxgboost is a third-party parser that may crash on hostile bytes: uploads are checked in a
// child process first (isolated_check.h); this runtime itself only refuses what it can see is
// not a model and turns every libxgboost error into a Status.
#pragma once

#include "runtime/runtime.h"

namespace vigil::runtime {

class XgboostRuntime final : public Runtime {
 public:
  static constexpr std::string_view kName = "xgboost";
  // Estimated memory of a loaded model, as a multiple of its file size.
  static constexpr size_t kMemoryFactor = 2;

  explicit XgboostRuntime(int threads_per_model = 1);

  std::string_view kind() const override { return kName; }
  // Rejects (kInvalidArgument, the reason from libxgboost trimmed, no paths): empty input,
  // input whose first non-space byte is not '{' (JSON and UBJ models both start with it; the
  // deprecated binary format is refused), anything libxgboost cannot load or predict with
  // (a warm-up prediction runs at load), an output shape this runtime does not know, and
  // metadata "features" of another length than the model's feature count.
  Expected<std::unique_ptr<LoadedModel>> load(std::string_view bytes,
                                              const boost::json::object& metadata) const override;

 private:
  int threads_per_model_;
};

// XGBGetLastError()'s text made fit for a user: first line only, without timestamp, source
// paths and stack trace, printable ASCII only, at most kMaxXgboostErrorChars characters.
// Exposed for tests.
std::string xgboost_error_text(std::string_view raw);
inline constexpr size_t kMaxXgboostErrorChars = 240;

}  // namespace vigil::runtime
