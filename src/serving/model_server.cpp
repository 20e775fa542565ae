#include "serving/model_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/json_text.h"
#include "core/names.h"

namespace vigil::serving {
namespace json = boost::json;

ModelServer::ModelServer(registry::ModelRegistry& registry,
                         const runtime::RuntimeRegistry& runtimes, runtime::ModelCache& cache,
                         runtime::Batcher& batcher, BlockingPool& blocking,
                         MetricsRegistry& metrics, ServingOptions options)
    : registry_(registry),
      runtimes_(runtimes),
      cache_(cache),
      batcher_(batcher),
      blocking_(blocking),
      metrics_(metrics),
      options_(options) {}

std::string ModelServer::resolve_key(std::string_view name, std::string_view ref) {
  std::string key = name_key(name);
  key += '\0';
  key += name_key(ref);
  return key;
}

std::string ModelServer::cache_key(const ResolvedModel& m) {
  return std::to_string(m.model_id) + "/" + std::to_string(m.version);
}

std::shared_ptr<const ResolvedModel> ModelServer::peek_resolved(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = resolved_.find(key);
  if (it == resolved_.end()) return nullptr;
  if (std::chrono::steady_clock::now() >= it->second.expires) {
    resolved_.erase(it);
    return nullptr;
  }
  return it->second.model;
}

Expected<std::shared_ptr<const ResolvedModel>> ModelServer::resolve(std::string_view name,
                                                                    std::string_view ref) {
  std::string key = resolve_key(name, ref);
  if (auto hit = peek_resolved(key)) return hit;
  Expected<registry::ModelVersion> v = not_found("");
  if (ref.empty()) {
    v = registry_.resolve(name, "production");
    if (!v.ok() && v.status().code() == ErrorCode::kNotFound) v = registry_.resolve(name, "latest");
  } else {
    v = registry_.resolve(name, ref);
  }
  if (!v.ok()) return v.status();
  auto m = std::make_shared<ResolvedModel>();
  m->model_id = v->model_id;
  m->version = v->version;
  m->name = v->model;
  m->kind = v->kind;
  m->sha256 = v->sha256;
  m->metadata = v->metadata;
  m->access = v->access;
  m->label = v->model + ":" + std::to_string(v->version);
  boost::system::error_code ec;
  json::value meta = parse_json(v->metadata, ec);
  if (!ec && meta.is_object()) {
    if (const auto* f = meta.as_object().if_contains("features"); f && f->is_array()) {
      for (const auto& name_value : f->as_array()) {
        if (!name_value.is_string()) continue;
        m->feature_index.emplace(std::string(name_value.as_string()), m->features.size());
        m->features.emplace_back(name_value.as_string());
      }
    }
    if (const auto* p = meta.as_object().if_contains("price_per_row"); p && p->is_number()) {
      m->price_per_row = p->to_number<double>();
    }
  }
  MetricLabels labels{{"model", m->name}};
  m->rows_served = &metrics_.counter("vigil_predict_rows_total", "Rows predicted", labels);
  m->millicredits_priced =
      &metrics_.counter("vigil_predict_priced_millicredits_total",
                        "Price of the rows predicted, in milli-credits", labels);
  std::shared_ptr<const ResolvedModel> out = std::move(m);
  std::lock_guard lock(mu_);
  resolved_[key] = {out, std::chrono::steady_clock::now() + options_.resolve_ttl};
  return out;
}

Expected<ModelHandle> ModelServer::load(std::string_view name, std::string_view ref) {
  auto resolved = resolve(name, ref);
  if (!resolved.ok()) return resolved.status();
  const ResolvedModel& m = **resolved;
  auto model =
      cache_.get_or_load(cache_key(m), [&]() -> Expected<std::unique_ptr<runtime::LoadedModel>> {
        const runtime::Runtime* rt = runtimes_.find(m.kind);
        if (!rt) return failed_precondition("no runtime for kind " + m.kind);
        auto path = registry_.artifacts().local_path(m.sha256);
        if (!path.ok()) return path.status();
        std::ifstream in(*path, std::ios::binary);
        if (!in) return unavailable("cannot read the model file of " + m.label);
        std::ostringstream bytes;
        bytes << in.rdbuf();
        boost::system::error_code ec;
        json::value meta = parse_json(m.metadata, ec);
        json::object meta_object = !ec && meta.is_object() ? meta.as_object() : json::object();
        return rt->load(bytes.str(), meta_object);
      });
  const std::string key = resolve_key(name, ref);
  if (!model.ok()) {
    std::lock_guard lock(mu_);
    auto it = last_good_.find(key);
    if (it == last_good_.end() || it->second.resolved->model_id != m.model_id) {
      return model.status();
    }
    spdlog::warn("serving: {} failed to load ({}); still serving {}", m.label,
                 model.status().message(), it->second.resolved->label);
    return it->second;
  }
  ModelHandle handle{*resolved, *model};
  std::lock_guard lock(mu_);
  last_good_[key] = handle;
  return handle;
}

void ModelServer::acquire(std::string name, std::string ref,
                          std::function<void(Expected<ModelHandle>)> done) {
  if (auto resolved = peek_resolved(resolve_key(name, ref))) {
    if (auto model = cache_.peek(cache_key(*resolved))) {
      return done(ModelHandle{std::move(resolved), std::move(model)});
    }
  }
  auto shared_done = std::make_shared<decltype(done)>(std::move(done));
  bool queued = blocking_.try_post([this, name = std::move(name), ref = std::move(ref),
                                    shared_done] { (*shared_done)(load(name, ref)); });
  if (!queued) (*shared_done)(unavailable("the server is busy; retry in a moment"));
}

void ModelServer::predict(const ModelHandle& handle, std::vector<float> data, size_t rows,
                          std::function<void(Expected<runtime::Tensor>)> done) {
  batcher_.submit(handle.model, handle.resolved->label, std::move(data), rows, std::move(done));
}

void ModelServer::infer(const ModelHandle& handle, std::vector<float> data, size_t rows,
                        bool explain_too, std::function<void(Expected<Prediction>)> done) {
  auto finish = [this, resolved = handle.resolved, rows, done = std::move(done)](
                    Expected<runtime::Tensor> predicted,
                    std::optional<runtime::Tensor> contributions) {
    if (!predicted.ok()) return done(predicted.status());
    record_price(*resolved, rows);
    done(Prediction{std::move(*predicted), std::move(contributions)});
  };
  if (!explain_too) {
    return predict(handle, std::move(data), rows,
                   [finish](Expected<runtime::Tensor> p) { finish(std::move(p), std::nullopt); });
  }
  std::vector<float> copy = data;
  explain(
      handle, std::move(copy), rows,
      [this, handle, data = std::move(data), rows, finish](Expected<runtime::Tensor> c) mutable {
        if (!c.ok()) return finish(c.status(), std::nullopt);
        auto contributions = std::make_shared<runtime::Tensor>(std::move(*c));
        predict(handle, std::move(data), rows,
                [finish, contributions](Expected<runtime::Tensor> p) {
                  finish(std::move(p), std::move(*contributions));
                });
      });
}

Expected<Prediction> ModelServer::infer_now(const ModelHandle& handle, std::span<const float> data,
                                            size_t rows, bool explain_too) {
  std::optional<runtime::Tensor> contributions;
  if (explain_too) {
    auto c = handle.model->explain(data, rows);
    if (!c.ok()) return c.status();
    contributions = std::move(*c);
  }
  auto predicted = handle.model->predict(data, rows);
  if (!predicted.ok()) return predicted.status();
  record_price(*handle.resolved, rows);
  return Prediction{std::move(*predicted), std::move(contributions)};
}

void ModelServer::explain(const ModelHandle& handle, std::vector<float> data, size_t rows,
                          std::function<void(Expected<runtime::Tensor>)> done) {
  auto shared_done = std::make_shared<decltype(done)>(std::move(done));
  bool queued = blocking_.try_post([model = handle.model, data = std::move(data), rows,
                                    shared_done] { (*shared_done)(model->explain(data, rows)); });
  if (!queued) (*shared_done)(unavailable("the server is busy; retry in a moment"));
}

void ModelServer::forget(std::string_view model_name, int64_t deleted_version, int64_t model_id) {
  std::string prefix = name_key(model_name);
  prefix += '\0';
  {
    std::lock_guard lock(mu_);
    for (auto it = resolved_.begin(); it != resolved_.end();) {
      if (it->first.starts_with(prefix)) {
        it = resolved_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (deleted_version > 0 && model_id > 0) {
    cache_.erase(std::to_string(model_id) + "/" + std::to_string(deleted_version));
    std::lock_guard lock(mu_);
    for (auto it = last_good_.begin(); it != last_good_.end();) {
      if (it->second.resolved->model_id == model_id &&
          it->second.resolved->version == deleted_version) {
        it = last_good_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

void ModelServer::record_price(const ResolvedModel& m, size_t rows) {
  m.rows_served->inc(rows);
  m.millicredits_priced->inc(
      static_cast<uint64_t>(std::llround(m.price_per_row * 1000.0 * static_cast<double>(rows))));
}

}  // namespace vigil::serving
