#include "runtime/linear/linear_runtime.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <string>
#include <utility>

#include "core/json_text.h"
#include "runtime/model_input.h"

namespace vigil::runtime {
namespace {

class LinearModel final : public LoadedModel {
 public:
  LinearModel(std::vector<double> weights, double bias, bool logistic)
      : weights_(std::move(weights)), bias_(bias), logistic_(logistic) {}

  size_t num_features() const override { return weights_.size(); }
  std::vector<int64_t> row_output_shape() const override { return {}; }
  size_t memory_bytes() const override {
    return sizeof(*this) + weights_.capacity() * sizeof(double);
  }

  Expected<Tensor> predict(std::span<const float> data, size_t rows) const override {
    VIGIL_RETURN_IF_ERROR(check_input(data, rows, weights_.size()));
    const size_t n = weights_.size();
    Tensor out{{static_cast<int64_t>(rows)}, std::vector<float>(rows)};
    for (size_t r = 0; r < rows; ++r) {
      const float* x = data.data() + r * n;
      double margin = bias_;
      for (size_t i = 0; i < n; ++i) {
        if (!std::isnan(x[i])) margin += weights_[i] * static_cast<double>(x[i]);
      }
      out.values[r] = static_cast<float>(logistic_ ? 1.0 / (1.0 + std::exp(-margin)) : margin);
    }
    return out;
  }

  Expected<Tensor> explain(std::span<const float> data, size_t rows) const override {
    VIGIL_RETURN_IF_ERROR(check_input(data, rows, weights_.size()));
    const size_t n = weights_.size();
    Tensor out{{static_cast<int64_t>(rows), static_cast<int64_t>(n + 1)},
               std::vector<float>(rows * (n + 1))};
    for (size_t r = 0; r < rows; ++r) {
      const float* x = data.data() + r * n;
      float* c = out.values.data() + r * (n + 1);
      for (size_t i = 0; i < n; ++i) {
        c[i] =
            std::isnan(x[i]) ? 0.0f : static_cast<float>(weights_[i] * static_cast<double>(x[i]));
      }
      c[n] = static_cast<float>(bias_);
    }
    return out;
  }

 private:
  std::vector<double> weights_;
  double bias_;
  bool logistic_;
};

// A finite JSON number as double; nullopt for anything else.
std::optional<double> finite_number(const boost::json::value& v) {
  double d;
  if (v.is_double()) {
    d = v.get_double();
  } else if (v.is_int64()) {
    d = static_cast<double>(v.get_int64());
  } else if (v.is_uint64()) {
    d = static_cast<double>(v.get_uint64());
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

}  // namespace

Expected<std::unique_ptr<LoadedModel>> LinearRuntime::load(
    std::string_view bytes, const boost::json::object& metadata) const {
  if (bytes.size() > kMaxBytes) {
    return invalid_argument("linear model file is larger than " + std::to_string(kMaxBytes >> 20) +
                            " MiB");
  }
  boost::json::parse_options options;
  options.max_depth = 8;
  boost::system::error_code ec;
  boost::json::value root = parse_json(bytes, ec, options);
  if (ec) return invalid_argument("linear model is not valid JSON: " + ec.message());
  const auto* obj = root.if_object();
  if (obj == nullptr) {
    return invalid_argument(
        R"(linear model must be a JSON object {"weights":[...],"bias":b,"link":"identity"|"logistic"})");
  }
  for (const auto& kv : *obj) {
    if (kv.key() != "weights" && kv.key() != "bias" && kv.key() != "link") {
      return invalid_argument("unknown field \"" + std::string(kv.key()) +
                              "\" (a linear model has weights, bias, link)");
    }
  }

  const auto* weights_value = obj->if_contains("weights");
  if (weights_value == nullptr) return invalid_argument("weights: required");
  const auto* weights_array = weights_value->if_array();
  if (weights_array == nullptr) return invalid_argument("weights: must be an array of numbers");
  if (weights_array->empty()) return invalid_argument("weights: must not be empty");
  if (weights_array->size() > kMaxWeights) {
    return invalid_argument("weights: at most " + std::to_string(kMaxWeights) + " allowed, got " +
                            std::to_string(weights_array->size()));
  }
  std::vector<double> weights;
  weights.reserve(weights_array->size());
  for (size_t i = 0; i < weights_array->size(); ++i) {
    auto w = finite_number((*weights_array)[i]);
    if (!w) return invalid_argument("weights[" + std::to_string(i) + "]: must be a finite number");
    weights.push_back(*w);
  }

  double bias = 0;
  if (const auto* b = obj->if_contains("bias")) {
    auto v = finite_number(*b);
    if (!v) return invalid_argument("bias: must be a finite number");
    bias = *v;
  }

  bool logistic = false;
  if (const auto* l = obj->if_contains("link")) {
    const auto* s = l->if_string();
    if (s == nullptr || (*s != "identity" && *s != "logistic")) {
      return invalid_argument(R"(link: must be "identity" or "logistic")");
    }
    logistic = *s == "logistic";
  }

  auto declared = metadata_feature_count(metadata);
  if (!declared.ok()) return declared.status();
  VIGIL_RETURN_IF_ERROR(check_declared_features(*declared, weights.size()));
  return std::unique_ptr<LoadedModel>(
      std::make_unique<LinearModel>(std::move(weights), bias, logistic));
}

}  // namespace vigil::runtime
