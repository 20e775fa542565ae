#include "api/openapi.h"

#include <boost/json.hpp>

#include <set>

#include "auth/permissions.h"
#include "core/strings.h"

namespace vigil::api {
namespace json = boost::json;

json::value problem_schema_ref() { return json::object{{"$ref", "#/components/schemas/Problem"}}; }

namespace {

json::object problem_schema() {
  json::object error_item{
      {"type", "object"},
      {"properties", {{"field", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}};
  json::object properties{{"type", {{"type", "string"}}},
                          {"title", {{"type", "string"}}},
                          {"status", {{"type", "integer"}}},
                          {"detail", {{"type", "string"}}},
                          {"errors", {{"type", "array"}, {"items", error_item}}}};
  return json::object{{"type", "object"},
                      {"required", json::array{"type", "title", "status"}},
                      {"properties", properties}};
}

json::object problem_response(const std::string& description) {
  return json::object{
      {"description", description},
      {"content", {{"application/problem+json", {{"schema", problem_schema_ref()}}}}}};
}

}  // namespace

namespace {

json::array parameters_json(const net::Route& route) {
  json::array params;
  for (const auto& name : route.param_names) {
    params.push_back(json::object{
        {"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
  }
  for (const auto& p : route.spec.params) {
    json::object o{{"name", p.name}, {"in", p.in}, {"schema", p.schema}};
    if (!p.description.empty()) o["description"] = p.description;
    if (p.required) o["required"] = true;
    params.push_back(std::move(o));
  }
  return params;
}

// The route's own responses and those every route of its kind has (a body: 400, 413, 415,
// 422, 429, 503; a caller: 401, 403, 429, 503; a path parameter: 404).
json::object responses_json(const net::Route& route) {
  const auto& spec = route.spec;
  json::object responses;
  for (const auto& r : spec.responses) {
    json::object resp{{"description", r.description.empty() ? "OK" : r.description}};
    if (!r.schema.is_null()) resp["content"] = {{r.content_type, {{"schema", r.schema}}}};
    responses[std::to_string(r.status)] = std::move(resp);
  }
  if (route.websocket) {
    responses["101"] = {{"description", "Switching to the WebSocket protocol"}};
    responses["426"] = problem_response("Not a WebSocket upgrade request");
  }
  if (responses.empty()) responses["200"] = {{"description", "OK"}};
  if (!spec.request_schema.is_null()) {
    if (!responses.contains("400")) responses["400"] = problem_response("Malformed body");
    responses["413"] = problem_response("Body too large");
    responses["415"] = problem_response("Wrong content type");
    responses["422"] = problem_response("Invalid values; errors name each field");
    if (!responses.contains("429")) {
      responses["429"] =
          problem_response("This client sends too many request bodies at once (Retry-After)");
    }
  }
  if (spec.action != "public") {
    responses["401"] = problem_response("No or invalid credentials");
    responses["403"] = problem_response("Not allowed, or the token expired");
    if (!responses.contains("429")) {
      responses["429"] = problem_response("Too many failed sign-ins (Retry-After)");
    }
  }
  if ((!spec.request_schema.is_null() || spec.action != "public") && !responses.contains("503")) {
    responses["503"] = problem_response("The server is busy (Retry-After)");
  }
  if (!route.param_names.empty() && !responses.contains("404")) {
    responses["404"] = problem_response("Not found");
  }
  return responses;
}

json::object operation_json(const net::Route& route) {
  const auto& spec = route.spec;
  json::object op;
  if (!spec.operation_id.empty()) op["operationId"] = spec.operation_id;
  op["summary"] = spec.summary;
  if (!spec.tag.empty()) op["tags"] = json::array{json::value(spec.tag)};
  if (auto params = parameters_json(route); !params.empty()) op["parameters"] = std::move(params);
  if (!spec.request_schema.is_null()) {
    op["requestBody"] = {
        {"required", true},
        {"content", {{spec.request_content_type, {{"schema", spec.request_schema}}}}}};
  }
  op["responses"] = responses_json(route);
  op["security"] = spec.action == "public"
                       ? json::array{}
                       : json::array{json::object{{"bearerAuth", json::array{}}},
                                     json::object{{"cookieAuth", json::array{}}},
                                     json::object{{"basicAuth", json::array{}}}};
  op["x-vigil-action"] = spec.action;
  json::array roles;
  if (const auth::ActionSpec* a = auth::find_action(spec.action)) {
    for (const auto& r : a->roles) roles.push_back(json::value(r));
  }
  op["x-vigil-roles"] = std::move(roles);
  return op;
}

}  // namespace

json::value build_openapi(const net::Router& router, const std::string& version) {
  json::object paths;
  std::set<std::string> tags;
  for (const auto& route : router.routes()) {
    if (route->spec.hidden) continue;
    if (!route->spec.tag.empty()) tags.insert(route->spec.tag);
    auto& item = paths[route->pattern];
    if (item.is_null()) item = json::object{};
    item.as_object()[to_lower(net::http::to_string(route->method))] = operation_json(*route);
  }
  json::array tag_list;
  for (const auto& t : tags) tag_list.push_back(json::object{{"name", t}});
  return json::object{
      {"openapi", "3.1.0"},
      {"info",
       {{"title", "Vigil API"},
        {"version", version},
        {"description",
         "Model store, fleet rollouts, predictions, telemetry with anomaly detection, and sleep "
         "records. Errors are application/problem+json."}}},
      {"servers", json::array{json::object{{"url", "/"}}}},
      {"tags", std::move(tag_list)},
      {"paths", std::move(paths)},
      {"components",
       {{"schemas", {{"Problem", problem_schema()}}},
        {"securitySchemes",
         {{"bearerAuth", {{"type", "http"}, {"scheme", "bearer"}}},
          {"basicAuth", {{"type", "http"}, {"scheme", "basic"}}},
          {"cookieAuth", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "vigil_session"}}}}}}},
  };
}

}  // namespace vigil::api
