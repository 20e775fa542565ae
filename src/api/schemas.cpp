#include "api/schemas.h"

#include <boost/json.hpp>

#include "api/openapi.h"

namespace vigil::api {
namespace json = boost::json;

json::value list_schema(json::value item) {
  return json::object{{"type", "object"},
                      {"required", {"items", "next_cursor"}},
                      {"properties",
                       {{"items", {{"type", "array"}, {"items", std::move(item)}}},
                        {"next_cursor", {{"type", json::array{"string", "null"}}}}}}};
}

json::value object_schema(std::initializer_list<std::pair<const char*, const char*>> props,
                          std::initializer_list<const char*> required) {
  json::object p;
  for (const auto& [name, type] : props) p[name] = {{"type", type}};
  json::array req;
  for (const char* r : required) req.push_back(json::value(r));
  json::object o{{"type", "object"}, {"properties", p}};
  if (req.size()) o["required"] = std::move(req);
  return o;
}

json::value model_ref_schema() {
  return json::object{
      {"type", json::array{"object", "null"}},
      {"required", {"name", "version"}},
      {"properties", {{"name", {{"type", "string"}}}, {"version", {{"type", "integer"}}}}}};
}

json::value all_required(json::value schema) {
  json::object& o = schema.as_object();
  json::array req;
  for (const auto& [name, _] : o["properties"].as_object()) req.emplace_back(name);
  o["required"] = std::move(req);
  return schema;
}

json::value named_request_schema(json::object props, bool create) {
  json::object schema{{"type", "object"}, {"additionalProperties", false}};
  if (create) {
    props["name"] = {{"type", "string"}, {"pattern", "^[A-Za-z0-9._-]{1,64}$"}};
    schema["required"] = json::array{"name"};
  }
  schema["properties"] = std::move(props);
  return schema;
}

net::ResponseSpec problem_response(int status, const char* description) {
  return {status, description, problem_schema_ref(), "application/problem+json"};
}

std::vector<net::ParamSpec> page_params() {
  return {{"limit", "query", "Page size, 1..1000 (default 50)", json::object{{"type", "integer"}}},
          {"cursor", "query", "Opaque cursor from next_cursor"}};
}

}  // namespace vigil::api
