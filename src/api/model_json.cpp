#include "api/model_json.h"

#include "core/json_text.h"

#include <boost/json.hpp>

namespace vigil::api {
namespace json = boost::json;

namespace {

json::value user_ref(int64_t id) { return id > 0 ? json::value(id) : json::value(nullptr); }
json::value version_ref(int64_t v) { return v ? json::value(v) : json::value(); }

}  // namespace

json::value version_json(const registry::ModelVersion& v) {
  boost::system::error_code ec;
  json::value metadata = parse_json(v.metadata, ec);
  if (ec || !metadata.is_object()) metadata = json::object();
  json::array aliases;
  for (const auto& a : v.aliases) aliases.emplace_back(a);
  return json::object{{"model", v.model},
                      {"version", v.version},
                      {"kind", v.kind},
                      {"sha256", v.sha256},
                      {"size", v.size},
                      {"created_at", v.created_at},
                      {"created_by", user_ref(v.created_by)},
                      {"metadata", std::move(metadata)},
                      {"aliases", std::move(aliases)}};
}

json::object model_json(const registry::Model& m) {
  json::object aliases;
  for (const auto& [alias, version] : m.aliases) aliases[alias] = version;
  return {{"name", m.name},
          {"kind", m.kind},
          {"latest_version", version_ref(m.latest_version)},
          {"aliases", std::move(aliases)},
          {"created_at", m.created_at},
          {"created_by", user_ref(m.created_by)},
          {"visibility", m.access.is_private ? "private" : "public"},
          {"owner", user_ref(m.access.owner_id)},
          {"readers", json::value_from(m.access.readers)},
          {"description", m.access.description}};
}

bool check_model_access(net::Exchange& ex, const registry::ModelAccess& a, std::string_view model) {
  const Principal* p = ex.principal();
  if (a.may_read(p ? p->user_id : 0, p ? std::string_view(p->role) : std::string_view())) {
    return true;
  }
  ex.respond_problem(net::http::status::forbidden, "model " + std::string(model) +
                                                       " is private: its owner, its readers and "
                                                       "admins may use it");
  return false;
}

json::object model_detail_json(const registry::Model& m,
                               const std::vector<registry::ModelVersion>& versions,
                               const std::vector<registry::AliasMove>& history) {
  json::object out = model_json(m);
  json::array vs, hs;
  for (const auto& v : versions) vs.push_back(version_json(v));
  for (const auto& h : history) {
    hs.push_back({{"alias", h.alias},
                  {"from_version", version_ref(h.from_version)},
                  {"to_version", h.to_version},
                  {"at", h.at},
                  {"by", user_ref(h.by)}});
  }
  out["versions"] = std::move(vs);
  out["alias_history"] = std::move(hs);
  return out;
}

json::object alias_move_json(const registry::AliasMove& move) {
  return {{"alias", move.alias},
          {"version", move.to_version},
          {"previous_version", version_ref(move.from_version)},
          {"at", move.at}};
}

json::value version_schema() {
  return json::object{{"type", "object"},
                      {"required",
                       {"model", "version", "kind", "sha256", "size", "created_at", "created_by",
                        "metadata", "aliases"}},
                      {"properties",
                       {{"model", {{"type", "string"}}},
                        {"version", {{"type", "integer"}}},
                        {"kind", {{"type", "string"}}},
                        {"sha256", {{"type", "string"}}},
                        {"size", {{"type", "integer"}}},
                        {"created_at", {{"type", "string"}, {"format", "date-time"}}},
                        {"created_by", {{"type", json::array{"integer", "null"}}}},
                        {"metadata", {{"type", "object"}}},
                        {"aliases", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
}

json::value model_schema() {
  return json::object{
      {"type", "object"},
      {"required",
       {"name", "kind", "latest_version", "aliases", "created_at", "created_by", "visibility",
        "owner", "readers", "description"}},
      {"properties",
       {{"name", {{"type", "string"}}},
        {"kind", {{"type", "string"}}},
        {"latest_version", {{"type", json::array{"integer", "null"}}}},
        {"aliases",
         {{"type", "object"},
          {"description", "alias name → version"},
          {"additionalProperties", {{"type", "integer"}}}}},
        {"created_at", {{"type", "string"}, {"format", "date-time"}}},
        {"created_by", {{"type", json::array{"integer", "null"}}}},
        {"visibility", {{"type", "string"}, {"enum", json::array{"public", "private"}}}},
        {"owner", {{"type", json::array{"integer", "null"}}}},
        {"readers", {{"type", "array"}, {"items", {{"type", "integer"}}}}},
        {"description", {{"type", "string"}}}}}};
}

json::value model_detail_schema() {
  json::value schema = model_schema();
  json::object& o = schema.as_object();
  json::object move{{"type", "object"},
                    {"required", {"alias", "from_version", "to_version", "at", "by"}},
                    {"properties",
                     {{"alias", {{"type", "string"}}},
                      {"from_version", {{"type", json::array{"integer", "null"}}}},
                      {"to_version", {{"type", "integer"}}},
                      {"at", {{"type", "string"}, {"format", "date-time"}}},
                      {"by", {{"type", json::array{"integer", "null"}}}}}}};
  o["properties"].as_object()["versions"] = {{"type", "array"}, {"items", version_schema()}};
  o["properties"].as_object()["alias_history"] = {
      {"type", "array"}, {"description", "the latest 100 moves, newest first"}, {"items", move}};
  o["required"].as_array().push_back("versions");
  o["required"].as_array().push_back("alias_history");
  return schema;
}

}  // namespace vigil::api
