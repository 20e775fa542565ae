// Helpers for the runtime tests (header-only; not part of the library).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "runtime/runtime.h"

#ifndef VIGIL_TEST_DATA_DIR
#error "VIGIL_TEST_DATA_DIR must be defined (src/runtime/CMakeLists.txt)"
#endif

namespace vigil::runtime::testing {

inline std::string data_path(const std::string& relative) {
  return std::string(VIGIL_TEST_DATA_DIR) + "/" + relative;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline boost::json::object json_object(std::string_view text) {
  return boost::json::parse(text).as_object();
}

// A scriptable model: fixed shape and size, predict/explain by callback (default: row index).
class FakeModel final : public LoadedModel {
 public:
  using Fn = std::function<Expected<Tensor>(std::span<const float>, size_t)>;
  FakeModel(size_t features, size_t bytes, std::vector<int64_t> row_shape = {}, Fn predict = {})
      : features_(features),
        bytes_(bytes),
        row_shape_(std::move(row_shape)),
        predict_(std::move(predict)) {}
  size_t num_features() const override { return features_; }
  std::vector<int64_t> row_output_shape() const override { return row_shape_; }
  size_t memory_bytes() const override { return bytes_; }
  Expected<Tensor> predict(std::span<const float> data, size_t rows) const override {
    if (predict_) return predict_(data, rows);
    Tensor t{{static_cast<int64_t>(rows)}, std::vector<float>(rows)};
    for (size_t i = 0; i < rows; ++i) t.values[i] = static_cast<float>(i);
    return t;
  }
  Expected<Tensor> explain(std::span<const float>, size_t) const override {
    return internal_error("not implemented");
  }

 private:
  size_t features_;
  size_t bytes_;
  std::vector<int64_t> row_shape_;
  Fn predict_;
};

}  // namespace vigil::runtime::testing
