// Serving: from "model name + version reference" to a loaded model and its predictions.
//  - resolve(): name + ref (a number, "latest", an alias; empty = the "production" alias when
//    the model has one, else the latest version) → the version's identity, feature names and
//    price. Cached for `resolve_ttl` so a prediction does not query the store; an upload, alias
//    move or delete on this node forgets the model at once, other nodes see it within the TTL.
//  - load(): the version's LoadedModel through the ModelCache (one load per version, from the
//    local artifact copy, with the kind's runtime). A failed load is not cached, and what was
//    loaded before keeps serving.
//  - predict()/explain(): predictions go through the dynamic Batcher; explanations run on the
//    blocking pool.
// Thread-safe. resolve()/load() block on a miss: call them off the I/O threads, or use
// acquire(), which answers inline when both are cached and otherwise goes to the blocking pool.
#pragma once

#include "core/blocking_pool.h"

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"
#include "registry/model_registry.h"
#include "runtime/batcher.h"
#include "runtime/model_cache.h"
#include "runtime/runtime.h"

namespace vigil::serving {

struct ResolvedModel {
  int64_t model_id = 0;
  int64_t version = 0;
  std::string name;  // as stored
  std::string kind;
  std::string sha256;
  std::vector<std::string> features;  // metadata "features", may be empty
  std::unordered_map<std::string, size_t> feature_index;
  double price_per_row = 0;                // metadata "price_per_row", credits
  std::string label;                       // "name:version", for metrics
  std::string metadata;                    // the JSON object's text
  registry::ModelAccess access;            // who may use it (read from the store with it)
  Counter* rows_served = nullptr;          // vigil_predict_rows_total{model}
  Counter* millicredits_priced = nullptr;  // vigil_predict_priced_millicredits_total{model}
};

// A resolved version and its loaded model: what one request holds while it runs.
struct ModelHandle {
  std::shared_ptr<const ResolvedModel> resolved;
  std::shared_ptr<const runtime::LoadedModel> model;
};

struct Prediction {
  runtime::Tensor values;
  std::optional<runtime::Tensor> contributions;  // with explain: {rows, [classes,] features + 1}
};

struct ServingOptions {
  std::chrono::milliseconds resolve_ttl{1000};
};

class ModelServer {
 public:
  ModelServer(registry::ModelRegistry& registry, const runtime::RuntimeRegistry& runtimes,
              runtime::ModelCache& cache, runtime::Batcher& batcher, BlockingPool& blocking,
              MetricsRegistry& metrics, ServingOptions options = {});

  // Blocking on a miss. kNotFound names what is missing.
  Expected<std::shared_ptr<const ResolvedModel>> resolve(std::string_view name,
                                                         std::string_view ref);
  // Blocking on a miss. A runtime that cannot load the file → kInvalidArgument with its reason,
  // unless this reference (an alias, latest, or none) loaded another version before: that one
  // keeps serving, and the failure is logged.
  Expected<ModelHandle> load(std::string_view name, std::string_view ref);
  // `done` runs inline when the version is resolved and loaded already, otherwise on the
  // blocking pool after resolving/loading; inline with kUnavailable when the pool's queue is full.
  void acquire(std::string name, std::string ref, std::function<void(Expected<ModelHandle>)> done);

  // Through the batcher; `done` runs on a batcher thread.
  void predict(const ModelHandle& handle, std::vector<float> data, size_t rows,
               std::function<void(Expected<runtime::Tensor>)> done);
  // On the blocking pool; `done` runs there, or inline with kUnavailable when its queue is full.
  void explain(const ModelHandle& handle, std::vector<float> data, size_t rows,
               std::function<void(Expected<runtime::Tensor>)> done);

  // The prediction of `rows` rows and, with `explain`, each feature's contribution to it
  // (contributions first, on the blocking pool; then the prediction through the batcher). The
  // price of the rows is recorded when it succeeds. `done` runs on a batcher thread.
  void infer(const ModelHandle& handle, std::vector<float> data, size_t rows, bool explain,
             std::function<void(Expected<Prediction>)> done);
  // The same on the calling thread, without batching: for callers with a thread of their own and
  // rows enough to be their own batch (task workers).
  Expected<Prediction> infer_now(const ModelHandle& handle, std::span<const float> data,
                                 size_t rows, bool explain);
  // Forgets what was resolved for this model name (all refs); a deleted version is also dropped
  // from the model cache.
  void forget(std::string_view model_name, int64_t deleted_version = 0, int64_t model_id = 0);

  // Records the price of served rows (credits are charged once the ledger exists).
  void record_price(const ResolvedModel& m, size_t rows);

 private:
  struct CachedResolve {
    std::shared_ptr<const ResolvedModel> model;
    std::chrono::steady_clock::time_point expires;
  };
  std::shared_ptr<const ResolvedModel> peek_resolved(const std::string& key);
  static std::string resolve_key(std::string_view name, std::string_view ref);
  static std::string cache_key(const ResolvedModel& m);

  registry::ModelRegistry& registry_;
  const runtime::RuntimeRegistry& runtimes_;
  runtime::ModelCache& cache_;
  runtime::Batcher& batcher_;
  BlockingPool& blocking_;
  MetricsRegistry& metrics_;
  const ServingOptions options_;

  std::mutex mu_;
  std::unordered_map<std::string, CachedResolve> resolved_;  // by resolve_key
  // The last version that loaded for each resolve_key: served when the version a reference
  // now points at fails to load (a bad load keeps serving the old version).
  std::unordered_map<std::string, ModelHandle> last_good_;
};

}  // namespace vigil::serving
