#include "runtime/xgboost/xgboost_runtime.h"

#include <spdlog/spdlog.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>

#include "core/json_text.h"
#include "core/strings.h"
#include "runtime/model_input.h"

namespace vigil::runtime {
namespace {

// Larger models are refused at load: the warm-up and a one-row explain must stay cheap.
constexpr bst_ulong kMaxFeatures = bst_ulong{1} << 22;
constexpr int64_t kMaxOutputsPerRow = int64_t{1} << 16;

// Normal prediction from a dense float32 array; NaN = missing (XGBoost's JSON reads NaN).
constexpr const char* kPredictConfig =
    R"({"type":0,"training":false,"iteration_begin":0,"iteration_end":0,)"
    R"("strict_shape":false,"missing":NaN,"cache_id":0})";
// SHAP contributions from a DMatrix.
constexpr const char* kContribConfig =
    R"({"type":2,"training":false,"iteration_begin":0,"iteration_end":0,"strict_shape":false})";

std::string last_error() {
  const char* raw = XGBGetLastError();
  return xgboost_error_text(raw != nullptr ? raw : "");
}

void forward_xgboost_log(const char* message) { spdlog::debug("xgboost: {}", message); }

class DMatrixGuard {
 public:
  DMatrixGuard() = default;
  ~DMatrixGuard() {
    if (handle != nullptr) XGDMatrixFree(handle);
  }
  DMatrixGuard(const DMatrixGuard&) = delete;
  DMatrixGuard& operator=(const DMatrixGuard&) = delete;
  DMatrixHandle handle = nullptr;
};

// A JSON config value that XGBoost writes as a string ("3") or a number.
std::optional<int64_t> config_int(const boost::json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (const auto* s = v->if_string()) {
    return parse_int<int64_t>(std::string_view(s->data(), s->size()));
  }
  return std::nullopt;
}

const boost::json::object* object_at(const boost::json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

class XgboostModel final : public LoadedModel {
 public:
  explicit XgboostModel(BoosterHandle booster) : booster_(booster) {}
  ~XgboostModel() override {
    for (DMatrixHandle proxy : proxies_) XGDMatrixFree(proxy);
    XGBoosterFree(booster_);
  }
  XgboostModel(const XgboostModel&) = delete;
  XgboostModel& operator=(const XgboostModel&) = delete;

  // After XGBoosterLoadModelFromBuffer: configures the booster, reads its shape and runs a
  // warm-up prediction (which also makes libxgboost finish its lazy configuration now).
  Status init(std::optional<size_t> declared_features, int threads, size_t file_bytes);

  size_t num_features() const override { return features_; }
  std::vector<int64_t> row_output_shape() const override { return row_shape_; }
  size_t memory_bytes() const override { return memory_bytes_; }

  Expected<Tensor> predict(std::span<const float> data, size_t rows) const override {
    VIGIL_RETURN_IF_ERROR(check_input(data, rows, features_));
    std::vector<int64_t> shape{static_cast<int64_t>(rows)};
    shape.insert(shape.end(), row_shape_.begin(), row_shape_.end());
    if (rows == 0) return Tensor{std::move(shape), {}};
    auto out = predict_raw(data, rows);
    if (!out.ok()) return out.status();
    if (out->shape != shape) {
      return internal_error("xgboost returned predictions of an unexpected shape");
    }
    return out;
  }

  Expected<Tensor> explain(std::span<const float> data, size_t rows) const override {
    VIGIL_RETURN_IF_ERROR(check_input(data, rows, features_));
    if (rows == 0) {
      std::vector<int64_t> shape{0};
      if (groups_ > 1) shape.push_back(groups_);
      shape.push_back(static_cast<int64_t>(features_ + 1));
      return Tensor{std::move(shape), {}};
    }
    DMatrixGuard dmatrix;
    if (XGDMatrixCreateFromMat(data.data(), rows, features_,
                               std::numeric_limits<float>::quiet_NaN(), &dmatrix.handle) != 0) {
      return internal_error("xgboost could not take the rows: " + last_error());
    }
    // DMatrix prediction is not thread-safe in libxgboost 1.7: one at a time per booster.
    std::unique_lock lock(mu_);
    const bst_ulong* out_shape = nullptr;
    bst_ulong out_dim = 0;
    const float* out_values = nullptr;
    if (XGBoosterPredictFromDMatrix(booster_, dmatrix.handle, kContribConfig, &out_shape, &out_dim,
                                    &out_values) != 0) {
      return internal_error("xgboost could not compute contributions: " + last_error());
    }
    auto tensor = copy_out(out_shape, out_dim, out_values);
    if (tensor.shape.size() < 2 || tensor.shape.size() > 3 ||
        tensor.shape.front() != static_cast<int64_t>(rows) ||
        tensor.shape.back() != static_cast<int64_t>(features_ + 1)) {
      return internal_error("xgboost returned contributions of an unexpected shape");
    }
    return tensor;
  }

 private:
  static Tensor copy_out(const bst_ulong* shape, bst_ulong dim, const float* values) {
    Tensor t;
    size_t n = 1;
    for (bst_ulong i = 0; i < dim; ++i) {
      t.shape.push_back(static_cast<int64_t>(shape[i]));
      n *= static_cast<size_t>(shape[i]);
    }
    t.values.assign(values, values + n);
    return t;
  }

  // In-place prediction, the output shaped as libxgboost gives it. data holds rows × features_.
  Expected<Tensor> predict_raw(std::span<const float> data, size_t rows) const {
    char array_interface[192];
    std::snprintf(array_interface, sizeof(array_interface),
                  R"({"data":[%)" PRIuPTR
                  R"(,true],"shape":[%zu,%zu],"typestr":"<f4","version":3})",
                  reinterpret_cast<uintptr_t>(data.data()), rows, features_);
    DMatrixHandle proxy = take_proxy();
    if (proxy == nullptr) return internal_error("xgboost could not make a proxy: " + last_error());
    Expected<Tensor> out = internal_error("");
    {
      // Shared: in-place prediction is thread-safe; the lock only keeps explain() out.
      std::shared_lock lock(mu_);
      const bst_ulong* out_shape = nullptr;
      bst_ulong out_dim = 0;
      const float* out_values = nullptr;
      if (XGBoosterPredictFromDense(booster_, array_interface, kPredictConfig, proxy, &out_shape,
                                    &out_dim, &out_values) != 0) {
        out = internal_error("xgboost prediction failed: " + last_error());
      } else {
        // The output buffer is per calling thread; copy it before the next call.
        out = copy_out(out_shape, out_dim, out_values);
      }
    }
    give_proxy(proxy);
    return out;
  }

  // Proxy DMatrix handles for in-place prediction. Without one, libxgboost 1.7 builds a proxy per
  // call, and the proxy's Context reads the cgroup CPU quota files each time (~40 µs, more than
  // predicting a row). A call writes the data into its proxy, so each proxy serves one call at a
  // time: they are lent from this free list.
  DMatrixHandle take_proxy() const {
    {
      std::lock_guard lock(proxies_mu_);
      if (!free_proxies_.empty()) {
        DMatrixHandle h = free_proxies_.back();
        free_proxies_.pop_back();
        return h;
      }
    }
    DMatrixHandle h = nullptr;
    if (XGProxyDMatrixCreate(&h) != 0) return nullptr;
    std::lock_guard lock(proxies_mu_);
    proxies_.push_back(h);
    return h;
  }
  void give_proxy(DMatrixHandle h) const {
    std::lock_guard lock(proxies_mu_);
    free_proxies_.push_back(h);
  }

  BoosterHandle booster_;
  size_t features_ = 0;
  std::vector<int64_t> row_shape_;
  int64_t groups_ = 1;  // output groups (classes or targets); > 1: 3-D contributions
  size_t memory_bytes_ = 0;
  mutable std::shared_mutex mu_;
  mutable std::mutex proxies_mu_;
  mutable std::vector<DMatrixHandle> proxies_;       // all made, freed with the model
  mutable std::vector<DMatrixHandle> free_proxies_;  // not lent out now
};

Status XgboostModel::init(std::optional<size_t> declared_features, int threads, size_t file_bytes) {
  std::string nthread = std::to_string(threads < 1 ? 1 : threads);
  if (XGBoosterSetParam(booster_, "nthread", nthread.c_str()) != 0) {
    return invalid_argument("xgboost model cannot be configured: " + last_error());
  }
  bst_ulong features = 0;
  if (XGBoosterGetNumFeature(booster_, &features) != 0) {
    return invalid_argument("xgboost model has no readable feature count: " + last_error());
  }
  if (features == 0) return invalid_argument("xgboost model declares no features");
  if (features > kMaxFeatures) {
    return invalid_argument("xgboost model has " + std::to_string(features) +
                            " features; at most " + std::to_string(kMaxFeatures) + " supported");
  }
  features_ = static_cast<size_t>(features);
  VIGIL_RETURN_IF_ERROR(check_declared_features(declared_features, features_));

  bst_ulong config_len = 0;
  const char* config_text = nullptr;
  if (XGBoosterSaveJsonConfig(booster_, &config_len, &config_text) != 0) {
    return invalid_argument("xgboost model has no readable configuration: " + last_error());
  }
  boost::system::error_code ec;
  boost::json::value config = parse_json(std::string_view(config_text, config_len), ec);
  const boost::json::object* learner = nullptr;
  if (!ec && config.is_object()) learner = object_at(config.get_object(), "learner");
  const boost::json::object* params =
      learner ? object_at(*learner, "learner_model_param") : nullptr;
  const boost::json::object* objective = learner ? object_at(*learner, "objective") : nullptr;
  if (params == nullptr || objective == nullptr) {
    return invalid_argument("xgboost model configuration lacks learner parameters");
  }
  std::string objective_name;
  if (const auto* name = objective->if_contains("name"); name && name->is_string()) {
    objective_name = std::string(name->get_string());
  }
  int64_t num_class = config_int(*params, "num_class").value_or(0);
  int64_t num_target = config_int(*params, "num_target").value_or(1);
  if (num_class < 0 || num_class > kMaxOutputsPerRow || num_target < 1 ||
      num_target > kMaxOutputsPerRow) {
    return invalid_argument("xgboost model has an unsupported number of classes or targets");
  }
  // multi:softprob gives one probability per class; multi:softmax one class index per row.
  if (objective_name == "multi:softprob") {
    row_shape_ = {num_class};
  } else if (num_target > 1) {
    row_shape_ = {num_target};
  }
  groups_ = std::max<int64_t>({int64_t{1}, num_class, num_target});
  memory_bytes_ = file_bytes * XgboostRuntime::kMemoryFactor;

  // Warm-up: a row of missing values and a row of zeros.
  std::vector<float> rows(2 * features_, 0.0f);
  std::fill(rows.begin(), rows.begin() + static_cast<ptrdiff_t>(features_),
            std::numeric_limits<float>::quiet_NaN());
  auto out = predict_raw(rows, 2);
  if (!out.ok()) {
    return invalid_argument("xgboost model cannot predict: " + out.status().message());
  }
  std::vector<int64_t> expected{2};
  expected.insert(expected.end(), row_shape_.begin(), row_shape_.end());
  if (out->shape != expected) {
    return invalid_argument("xgboost model (objective \"" + objective_name +
                            "\") has an output shape this runtime does not support");
  }
  return Status::ok_status();
}

}  // namespace

std::string xgboost_error_text(std::string_view raw) {
  std::string_view s = raw.substr(0, raw.find('\n'));
  // "[09:17:08] ./src/learner.cc:1017: Check failed: <expr> : <message>"
  if (!s.empty() && s.front() == '[') {
    if (auto p = s.find("] "); p != std::string_view::npos && p < 16) s.remove_prefix(p + 2);
  }
  if (auto sp = s.find(' '); sp != std::string_view::npos && sp > 0 && s[sp - 1] == ':' &&
                             s.substr(0, sp).find('/') != std::string_view::npos) {
    s.remove_prefix(sp + 1);
  }
  if (s.starts_with("Check failed:")) {
    if (auto p = s.rfind(" : "); p != std::string_view::npos && p + 3 < s.size()) {
      s.remove_prefix(p + 3);
    }
  }
  // Drop any remaining path-like words.
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t end = s.find(' ', i);
    if (end == std::string_view::npos) end = s.size();
    std::string_view word = s.substr(i, end - i);
    if (!word.starts_with('/') && !word.starts_with("./") && !word.starts_with("../")) {
      if (!out.empty()) out += ' ';
      out += word;
    }
    i = end + 1;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '.' || out.back() == ':')) {
    out.pop_back();
  }
  // libxgboost quotes bytes of the input: keep printable ASCII only (valid UTF-8 for JSON).
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  if (out.size() > kMaxXgboostErrorChars) {
    out.resize(kMaxXgboostErrorChars - 3);
    out += "...";
  }
  if (out.empty()) out = "unknown error";
  return out;
}

XgboostRuntime::XgboostRuntime(int threads_per_model) : threads_per_model_(threads_per_model) {
  static std::once_flag once;
  std::call_once(once, [] { (void)XGBRegisterLogCallback(&forward_xgboost_log); });
}

Expected<std::unique_ptr<LoadedModel>> XgboostRuntime::load(
    std::string_view bytes, const boost::json::object& metadata) const {
  auto declared = metadata_feature_count(metadata);
  if (!declared.ok()) return declared.status();
  size_t start = bytes.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return invalid_argument("the model file is empty");
  // libxgboost decides the format by the first byte: '{' + '"' = JSON, '{' + letter = UBJ.
  bytes.remove_prefix(start);
  if (bytes.front() != '{') {
    return invalid_argument(
        "not an XGBoost model: expected a JSON or UBJ model file (Booster.save_model to .json or "
        ".ubj)");
  }
  BoosterHandle handle = nullptr;
  if (XGBoosterCreate(nullptr, 0, &handle) != 0) {
    return internal_error("xgboost could not create a booster: " + last_error());
  }
  auto model = std::make_unique<XgboostModel>(handle);  // owns the handle from here
  if (XGBoosterLoadModelFromBuffer(handle, bytes.data(), bytes.size()) != 0) {
    return invalid_argument("not a valid XGBoost model: " + last_error());
  }
  VIGIL_RETURN_IF_ERROR(model->init(*declared, threads_per_model_, bytes.size()));
  return std::unique_ptr<LoadedModel>(std::move(model));
}

}  // namespace vigil::runtime
