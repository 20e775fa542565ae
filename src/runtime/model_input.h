// Helpers every runtime shares: reading the feature list from a version's metadata and
// checking a batch of rows against a model's feature count, with the messages users see.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/status.h"

namespace vigil::runtime {

// The number of names in metadata "features"; nullopt when the key is absent.
// kInvalidArgument when "features" is not an array of strings.
Expected<std::optional<size_t>> metadata_feature_count(const boost::json::object& metadata);

// ok when `declared` is absent or equals `model_features`; else kInvalidArgument naming both.
Status check_declared_features(std::optional<size_t> declared, size_t model_features);

// ok when data holds rows × features values (features 0 = any: a whole number of columns).
// kInvalidArgument saying the expected count otherwise.
Status check_input(std::span<const float> data, size_t rows, size_t features);

// Values one row's prediction has: the product of row_output_shape (1 for {}).
size_t row_output_size(const std::vector<int64_t>& row_output_shape);

}  // namespace vigil::runtime
