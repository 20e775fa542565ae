// Model runtimes: the small interface every kind of model (xgboost, linear, blank, ...) sits
// behind. A Runtime turns a model file's bytes into a LoadedModel; a LoadedModel predicts and
// explains batches of rows. Adding a runtime = one folder under runtime/ plus one line in
// default_runtimes() (docs/runtimes.md).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::runtime {

// A dense float tensor, row-major. shape[0] is the number of rows.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// A model ready to serve. Immutable after load; predict() and explain() are thread-safe (an
// implementation that is not serialises internally).
class LoadedModel {
 public:
  virtual ~LoadedModel() = default;
  // Columns each input row must have; 0 = any number (blank).
  virtual size_t num_features() const = 0;
  // Shape of one row's prediction: {} for regression and binary, {classes} for multi-class.
  virtual std::vector<int64_t> row_output_shape() const = 0;
  // What the model holds in memory, for the model cache's byte budget (an estimate is fine).
  virtual size_t memory_bytes() const = 0;
  // rows × num_features() values, row-major; NaN = missing.
  // → shape {rows} + row_output_shape(). kInvalidArgument when data.size() != rows × features.
  virtual Expected<Tensor> predict(std::span<const float> data, size_t rows) const = 0;
  // Per-feature contributions, the bias last: {rows, features + 1}, or
  // {rows, classes, features + 1} for multi-class, as the xgboost package gives them.
  virtual Expected<Tensor> explain(std::span<const float> data, size_t rows) const = 0;
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual std::string_view kind() const = 0;
  // Parses and checks a model file. A file the runtime cannot use → kInvalidArgument whose
  // message is the runtime's reason (shown to the uploader in a 422). Never crashes on bad
  // bytes *for runtimes written by us*; third-party parsers (libxgboost) are additionally run
  // in a child process first at upload (isolated_check.h).
  virtual Expected<std::unique_ptr<LoadedModel>> load(
      std::string_view bytes, const boost::json::object& metadata) const = 0;
};

// The runtimes a server knows, by kind. Thread-safe to read after construction.
class RuntimeRegistry {
 public:
  void add(std::unique_ptr<Runtime> runtime);
  const Runtime* find(std::string_view kind) const;  // nullptr when unknown
  std::vector<std::string> kinds() const;            // sorted

 private:
  std::vector<std::unique_ptr<Runtime>> runtimes_;
};

// xgboost, linear and blank.
std::unique_ptr<RuntimeRegistry> default_runtimes();

}  // namespace vigil::runtime
