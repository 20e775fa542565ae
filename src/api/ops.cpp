#include "api/ops.h"

#include <boost/json.hpp>

#include <mutex>

#include "api/handler.h"
#include "api/openapi.h"
#include "api/schemas.h"
#include "core/embedded.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using net::http::verb;

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

class OpsHandlers {
 public:
  explicit OpsHandlers(OpsDeps d) : d_(std::move(d)) {}

  void health(const ExchangePtr& ex) const {
    static const std::string kBody = R"({"status":"ok"})";
    ex->respond_json_text(status::ok, kBody);
  }

  void readiness(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [this](net::Exchange& ex) {
      json::object results;
      std::string failures;
      for (const auto& c : d_.readiness) {
        Status s = c.check();
        results[c.name] = s.ok() ? "ok" : s.message();
        if (!s.ok()) failures += (failures.empty() ? "" : "; ") + c.name + ": " + s.message();
      }
      if (!failures.empty()) {
        return ex.respond_problem(status::service_unavailable, "not ready: " + failures);
      }
      ex.respond_json(status::ok, {{"status", "ready"}, {"checks", results}});
    });
  }

  void metrics(const ExchangePtr& ex) const {
    net::HttpResponse res{status::ok, 11};
    res.set(net::http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = d_.metrics->render();
    ex->respond(std::move(res));
  }

 private:
  OpsDeps d_;
};

class DocsHandlers {
 public:
  DocsHandlers(const net::Router& router, std::string version)
      : router_(router), version_(std::move(version)) {}

  // Built when first asked, so it covers every route added before the server started.
  void openapi(const ExchangePtr& ex) const {
    std::call_once(built_, [&] { document_ = json::serialize(build_openapi(router_, version_)); });
    ex->respond_json_text(status::ok, document_);
  }

  void index(const ExchangePtr& ex) const {
    net::HttpResponse res{status::ok, 11};
    res.set(net::http::field::content_type, "text/html; charset=utf-8");
    res.body() = kDocsHtml;
    ex->respond(std::move(res));
  }

  void asset(const ExchangePtr& ex) const {
    auto name = ex->param("file");
    if (name.empty() || name == "index.html") return index(ex);
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
  }

 private:
  const net::Router& router_;
  std::string version_;
  mutable std::once_flag built_;
  mutable std::string document_;
};

net::RouteSpec health_spec() {
  return {.operation_id = "getHealth",
          .summary = "The process is alive",
          .tag = "operations",
          .action = "public",
          .responses = {{200, "Alive", object_schema({{"status", "string"}}, {"status"})}}};
}

net::RouteSpec readiness_spec() {
  return {.operation_id = "getReadiness",
          .summary = "Store and queue reachable, migrations current",
          .tag = "operations",
          .action = "public",
          .responses = {{200, "Ready",
                         json::object{{"type", "object"},
                                      {"required", {"status", "checks"}},
                                      {"properties",
                                       {{"status", {{"type", "string"}}},
                                        {"checks",
                                         {{"type", "object"},
                                          {"description", "Each check's name: ok, or what failed"},
                                          {"additionalProperties", {{"type", "string"}}}}}}}}},
                        problem_response(503, "Not ready")}};
}

net::RouteSpec metrics_spec() {
  return {.operation_id = "getMetrics",
          .summary = "Prometheus metrics",
          .tag = "operations",
          .action = "public",
          .responses = {{200, "Prometheus text format 0.0.4", json::object{{"type", "string"}},
                         "text/plain"}}};
}

}  // namespace

void add_ops_routes(net::Router& router, OpsDeps deps) {
  auto h = std::make_shared<const OpsHandlers>(std::move(deps));
  router.add(verb::get, "/healthz", health_spec(), bind(h, &OpsHandlers::health));
  router.add(verb::get, "/readyz", readiness_spec(), bind(h, &OpsHandlers::readiness));
  router.add(verb::get, "/metrics", metrics_spec(), bind(h, &OpsHandlers::metrics));
}

void add_docs_routes(net::Router& router, std::string version) {
  auto h = std::make_shared<const DocsHandlers>(router, std::move(version));
  router.add(verb::get, "/openapi.json",
             {.operation_id = "getOpenApi",
              .summary = "This API's OpenAPI 3.1 document",
              .tag = "operations",
              .action = "public",
              .responses = {{200, "The document", json::object{{"type", "object"}}}}},
             bind(h, &DocsHandlers::openapi));
  router.add(verb::get, "/docs",
             {.operation_id = "getDocs",
              .summary = "Interactive API documentation",
              .tag = "operations",
              .action = "public",
              .responses = {{200, "HTML page", json::object{{"type", "string"}}, "text/html"}}},
             bind(h, &DocsHandlers::index));
  router.add(verb::get, "/docs/{file*}",
             {.summary = "docs assets", .action = "public", .hidden = true},
             bind(h, &DocsHandlers::asset));
}

}  // namespace vigil::api
