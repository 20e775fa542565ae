#include "api/ops.h"

#include <boost/json.hpp>

#include <mutex>

#include "api/openapi.h"
#include "core/embedded.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;

namespace {

const char* kDocsHtml = R"(<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Vigil API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
  </script>
</body>
</html>
)";

}  // namespace

void add_ops_routes(net::Router& router, OpsDeps deps) {
  router.add(net::http::verb::get, "/healthz",
             {.operation_id = "getHealth",
              .summary = "The process is alive",
              .tag = "operations",
              .action = "public",
              .responses = {{200, "Alive",
                             json::object{{"type", "object"},
                                          {"properties", {{"status", {{"type", "string"}}}}}}}}},
             [](const std::shared_ptr<net::Exchange>& ex) {
               static const std::string kBody = R"({"status":"ok"})";
               net::HttpResponse res{status::ok, 11};
               res.set(net::http::field::content_type, "application/json");
               res.body() = kBody;
               ex->respond(std::move(res));
             });

  auto checks = std::make_shared<std::vector<ReadinessCheck>>(std::move(deps.readiness));
  router.add(net::http::verb::get, "/readyz",
             {.operation_id = "getReadiness",
              .summary = "Store and queue reachable, migrations current",
              .tag = "operations",
              .action = "public",
              .responses = {{200, "Ready",
                             json::object{{"type", "object"},
                                          {"properties",
                                           {{"status", {{"type", "string"}}},
                                            {"checks", {{"type", "object"}}}}}}},
                            {503, "Not ready", problem_schema_ref(), "application/problem+json"}}},
             [checks](const std::shared_ptr<net::Exchange>& ex) {
               json::object results;
               std::string failures;
               for (const auto& c : *checks) {
                 Status s = c.check();
                 results[c.name] = s.ok() ? "ok" : s.message();
                 if (!s.ok())
                   failures += (failures.empty() ? "" : "; ") + c.name + ": " + s.message();
               }
               if (!failures.empty()) {
                 return ex->respond_problem(status::service_unavailable, "not ready: " + failures);
               }
               ex->respond_json(status::ok, {{"status", "ready"}, {"checks", results}});
             });

  MetricsRegistry* metrics = deps.metrics;
  router.add(net::http::verb::get, "/metrics",
             {.operation_id = "getMetrics",
              .summary = "Prometheus metrics",
              .tag = "operations",
              .action = "public",
              .responses = {{200, "Prometheus text format 0.0.4", json::object{{"type", "string"}},
                             "text/plain"}}},
             [metrics](const std::shared_ptr<net::Exchange>& ex) {
               net::HttpResponse res{status::ok, 11};
               res.set(net::http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
               res.body() = metrics->render();
               ex->respond(std::move(res));
             });
}

void add_docs_routes(net::Router& router, std::string version) {
  const net::Router* r = &router;
  auto cache = std::make_shared<std::pair<std::once_flag, std::string>>();
  router.add(net::http::verb::get, "/openapi.json",
             {.operation_id = "getOpenApi",
              .summary = "This API's OpenAPI 3.1 document",
              .tag = "operations",
              .action = "public",
              .responses = {{200, "The document", json::object{{"type", "object"}}}}},
             [r, cache, version](const std::shared_ptr<net::Exchange>& ex) {
               std::call_once(cache->first,
                              [&] { cache->second = json::serialize(build_openapi(*r, version)); });
               net::HttpResponse res{status::ok, 11};
               res.set(net::http::field::content_type, "application/json");
               res.body() = cache->second;
               ex->respond(std::move(res));
             });

  auto serve_index = [](const std::shared_ptr<net::Exchange>& ex) {
    net::HttpResponse res{status::ok, 11};
    res.set(net::http::field::content_type, "text/html; charset=utf-8");
    res.body() = kDocsHtml;
    ex->respond(std::move(res));
  };
  router.add(net::http::verb::get, "/docs",
             {.operation_id = "getDocs",
              .summary = "Interactive API documentation",
              .tag = "operations",
              .action = "public",
              .responses = {{200, "HTML page", json::object{{"type", "string"}}, "text/html"}}},
             serve_index);
  router.add(net::http::verb::get, "/docs/{file*}",
             {.summary = "docs assets", .action = "public", .hidden = true},
             [serve_index](const std::shared_ptr<net::Exchange>& ex) {
               auto name = ex->param("file");
               if (name.empty() || name == "index.html") return serve_index(ex);
               const auto* f = embedded::find(embedded::docs(), name);
               if (!f) {
                 if (embedded::docs().empty()) {
                   return ex->respond_problem(
                       status::service_unavailable,
                       "docs assets were not built into this binary (run npm ci in web/)");
                 }
                 return ex->respond_problem(status::not_found, "no such docs asset");
               }
               net::HttpResponse res{status::ok, 11};
               res.set(net::http::field::content_type, f->content_type);
               res.set(net::http::field::cache_control, "public, max-age=86400");
               res.body().assign(f->data.data(), f->data.size());
               ex->respond(std::move(res));
             });
}

}  // namespace vigil::api
