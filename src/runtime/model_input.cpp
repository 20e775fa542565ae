#include "runtime/model_input.h"

#include <string>

namespace vigil::runtime {

Expected<std::optional<size_t>> metadata_feature_count(const boost::json::object& metadata) {
  const auto* features = metadata.if_contains("features");
  if (features == nullptr) return std::optional<size_t>{};
  const auto* names = features->if_array();
  if (names == nullptr) return invalid_argument("metadata features: must be an array of names");
  for (const auto& name : *names) {
    if (!name.is_string()) {
      return invalid_argument("metadata features: must be an array of names (strings)");
    }
  }
  return std::optional<size_t>{names->size()};
}

Status check_declared_features(std::optional<size_t> declared, size_t model_features) {
  if (!declared || *declared == model_features) return Status::ok_status();
  return invalid_argument("metadata \"features\" lists " + std::to_string(*declared) +
                          " name(s) but the model has " + std::to_string(model_features) +
                          " feature(s)");
}

Status check_input(std::span<const float> data, size_t rows, size_t features) {
  if (features == 0) {
    if ((rows == 0 && !data.empty()) || (rows != 0 && data.size() % rows != 0)) {
      return invalid_argument(std::to_string(data.size()) + " values do not make " +
                              std::to_string(rows) + " rows of equal length");
    }
    return Status::ok_status();
  }
  // Division first: rows × features may overflow for an absurd row count.
  if (data.size() % features != 0 || data.size() / features != rows) {
    return invalid_argument("the model expects " + std::to_string(features) +
                            " features per row; got " + std::to_string(data.size()) +
                            " values for " + std::to_string(rows) + " rows");
  }
  return Status::ok_status();
}

size_t row_output_size(const std::vector<int64_t>& row_output_shape) {
  size_t n = 1;
  for (int64_t d : row_output_shape) n *= static_cast<size_t>(d);
  return n;
}

}  // namespace vigil::runtime
