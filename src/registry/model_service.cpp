#include "registry/model_service.h"

#include <boost/json.hpp>

#include <algorithm>
#include <set>

#include "core/json_text.h"
#include "core/names.h"

namespace vigil::registry {
namespace json = boost::json;

namespace {

constexpr size_t kMaxMetadataBytes = 64 << 10;
constexpr size_t kMaxFeatures = 100000;

Status validate_features(const json::value& f) {
  if (!f.is_array()) return invalid_field("metadata.features", "must be an array of names");
  if (f.as_array().size() > kMaxFeatures) {
    return invalid_field("metadata.features", "at most 100000 features");
  }
  std::set<std::string_view> seen;
  for (const auto& name : f.as_array()) {
    if (!name.is_string() || name.as_string().empty() || name.as_string().size() > 256) {
      return invalid_field("metadata.features", "every feature is a name of 1-256 characters");
    }
    if (!seen.insert(std::string_view(name.as_string())).second) {
      return invalid_field("metadata.features", std::string(name.as_string()) + " appears twice");
    }
  }
  return {};
}

// The metadata's text as stored (serialized again), after its checks.
Expected<std::string> checked_metadata(std::string_view text) {
  if (text.size() > kMaxMetadataBytes) return invalid_field("metadata", "larger than 64 KiB");
  boost::system::error_code ec;
  json::value metadata = parse_json(text, ec);
  if (ec || !metadata.is_object()) return malformed("metadata", "not a JSON object");
  VIGIL_RETURN_IF_ERROR(validate_model_metadata(metadata.as_object()));
  return json::serialize(metadata);
}

}  // namespace

Status validate_model_metadata(const json::object& m) {
  if (const auto* f = m.if_contains("features")) VIGIL_RETURN_IF_ERROR(validate_features(*f));
  if (const auto* p = m.if_contains("price_per_row")) {
    if (!p->is_number() || p->to_number<double>() < 0 || p->to_number<double>() > 1e9) {
      return invalid_field("metadata.price_per_row", "must be a number of credits, 0 or more");
    }
  }
  if (const auto* t = m.if_contains("alarm_threshold"); t && !t->is_number()) {
    return invalid_field("metadata.alarm_threshold", "must be a number");
  }
  if (const auto* s = m.if_contains("description"); s && !s->is_string()) {
    return invalid_field("metadata.description", "must be a string");
  }
  return {};
}

ModelService::ModelService(ModelRegistry& registry, ModelChecks checks, ChangeHook on_changed)
    : registry_(registry), checks_(std::move(checks)), on_changed_(std::move(on_changed)) {}

Expected<std::string> ModelService::resolve_kind(const Upload& upload) {
  if (upload.kind) {
    const auto& kinds = checks_.kinds;
    if (std::find(kinds.begin(), kinds.end(), *upload.kind) != kinds.end()) return *upload.kind;
    std::string known;
    for (const auto& k : kinds) known += (known.empty() ? "" : ", ") + k;
    return invalid_field("kind", "unknown runtime " + *upload.kind + " (known: " + known + ")");
  }
  auto existing = registry_.get(upload.name);
  if (existing.ok()) return existing->kind;
  if (existing.status().code() == ErrorCode::kNotFound) {
    return invalid_field("kind", "required for a new model");
  }
  return existing.status();
}

Expected<ModelVersion> ModelService::upload(const Upload& upload) {
  if (auto why = name_error(upload.name)) return invalid_field("name", *why);
  auto metadata = checked_metadata(upload.metadata);
  if (!metadata.ok()) return metadata.status();
  auto kind = resolve_kind(upload);
  if (!kind.ok()) return kind.status();
  if (Status s = checks_.loadable(*kind, upload.bytes, *metadata); !s.ok()) {
    if (s.code() != ErrorCode::kInvalidArgument) return s;
    return invalid_field("file", "the " + *kind + " runtime cannot load it: " + s.detail());
  }
  auto v = registry_.add_version(upload.name, *kind, upload.bytes, *metadata, upload.user_id);
  if (v.ok() && on_changed_) on_changed_(*v);
  return v;
}

Expected<AliasMove> ModelService::set_alias(std::string_view name, std::string_view alias,
                                            int64_t version, int64_t by) {
  auto move = registry_.set_alias(name, alias, version, by);
  if (move.ok() && on_changed_) {
    ModelVersion changed;
    changed.model = std::string(name);
    changed.version = move->to_version;
    on_changed_(changed);
  }
  return move;
}

Expected<Model> ModelService::set_access(std::string_view name, const AccessChange& change) {
  auto m = registry_.set_access(name, change);
  if (m.ok() && on_changed_) {
    ModelVersion changed;
    changed.model = m->name;
    on_changed_(changed);
  }
  return m;
}

Status ModelService::delete_version(std::string_view name, std::string_view ref) {
  auto v = registry_.resolve(name, ref);
  if (!v.ok()) return v.status();
  VIGIL_RETURN_IF_ERROR(registry_.delete_version(v->model, v->version));
  if (on_changed_) on_changed_(*v);
  return {};
}

}  // namespace vigil::registry
