#include "runtime/blank/blank_runtime.h"

#include "runtime/model_input.h"

namespace vigil::runtime {
namespace {

class BlankModel final : public LoadedModel {
 public:
  explicit BlankModel(size_t features) : features_(features) {}

  size_t num_features() const override { return features_; }
  std::vector<int64_t> row_output_shape() const override { return {}; }
  size_t memory_bytes() const override { return sizeof(*this); }

  Expected<Tensor> predict(std::span<const float> data, size_t rows) const override {
    VIGIL_RETURN_IF_ERROR(check_input(data, rows, features_));
    return Tensor{{static_cast<int64_t>(rows)}, std::vector<float>(rows, 0.0f)};
  }

  Expected<Tensor> explain(std::span<const float> data, size_t rows) const override {
    VIGIL_RETURN_IF_ERROR(check_input(data, rows, features_));
    size_t columns = features_ != 0 ? features_ : (rows == 0 ? 0 : data.size() / rows);
    return Tensor{{static_cast<int64_t>(rows), static_cast<int64_t>(columns + 1)},
                  std::vector<float>(rows * (columns + 1), 0.0f)};
  }

 private:
  size_t features_;
};

}  // namespace

Expected<std::unique_ptr<LoadedModel>> BlankRuntime::load(
    std::string_view /*bytes*/, const boost::json::object& metadata) const {
  auto declared = metadata_feature_count(metadata);
  if (!declared.ok()) return declared.status();
  return std::unique_ptr<LoadedModel>(std::make_unique<BlankModel>(declared->value_or(0)));
}

}  // namespace vigil::runtime
