#include "agent/active_model.h"

#include "core/json_text.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace vigil::agent {
namespace json = boost::json;

namespace {

constexpr size_t kMaxProbeValues = 100'000;

Expected<std::vector<float>> probe_row(const json::object& metadata, size_t features) {
  const auto* probe = metadata.if_contains("probe");
  if (!probe) return std::vector<float>(features == 0 ? 1 : features, 0.0f);
  if (!probe->is_array() || probe->as_array().size() > kMaxProbeValues) {
    return invalid_argument("metadata.probe must be an array of numbers");
  }
  std::vector<float> row;
  for (const auto& v : probe->as_array()) {
    if (v.is_null()) {
      row.push_back(std::numeric_limits<float>::quiet_NaN());
    } else if (v.is_number()) {
      row.push_back(static_cast<float>(v.to_number<double>()));
    } else {
      return invalid_argument("metadata.probe must be an array of numbers");
    }
  }
  return row;
}

}  // namespace

Expected<std::shared_ptr<const ActiveModel>> activate(const runtime::RuntimeRegistry& runtimes,
                                                      const InstalledModel& info,
                                                      std::string_view bytes) {
  const runtime::Runtime* rt = runtimes.find(info.kind);
  if (!rt) return invalid_argument("this agent has no runtime for kind '" + info.kind + "'");
  boost::system::error_code ec;
  json::value metadata = parse_json(info.metadata, ec);
  if (ec || !metadata.is_object()) return invalid_argument("the metadata is not a JSON object");
  auto loaded = rt->load(bytes, metadata.as_object());
  if (!loaded.ok())
    return invalid_argument("the model does not load: " + loaded.status().message());

  auto active = std::make_shared<ActiveModel>();
  active->info = info;
  active->model = std::move(*loaded);
  if (info.kind != "blank") {
    if (const auto* t = metadata.as_object().if_contains("alarm_threshold"); t && t->is_number()) {
      active->alarm_threshold = t->to_number<double>();
    }
  }

  auto row = probe_row(metadata.as_object(), active->model->num_features());
  if (!row.ok()) return row.status();
  auto out = active->model->predict(*row, 1);
  if (!out.ok()) return invalid_argument("the probe row fails: " + out.status().message());
  if (out->values.empty() || !std::all_of(out->values.begin(), out->values.end(),
                                          [](float v) { return std::isfinite(v); })) {
    return invalid_argument("the probe row's prediction is not a finite number");
  }
  return std::shared_ptr<const ActiveModel>(std::move(active));
}

Expected<double> score(const ActiveModel& active, std::span<const float> row) {
  const size_t features = active.model->num_features();
  if (features != 0 && row.size() != features) {
    return invalid_argument("a row of " + std::to_string(row.size()) + " values; the model takes " +
                            std::to_string(features));
  }
  auto out = active.model->predict(row, 1);
  if (!out.ok() || out->values.empty()) {
    active.failures.fetch_add(1, std::memory_order_relaxed);
    return out.ok() ? internal_error("the model predicted nothing") : out.status();
  }
  return static_cast<double>(*std::max_element(out->values.begin(), out->values.end()));
}

bool raises_alarm(const ActiveModel& active, double score) {
  return active.alarm_threshold && std::isfinite(score) && score >= *active.alarm_threshold;
}

}  // namespace vigil::agent
