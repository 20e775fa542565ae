#include "api/v2_inference.h"

#include <boost/json.hpp>

#include "api/handler.h"
#include "api/json_body.h"
#include "api/kserve.h"
#include "api/model_json.h"
#include "api/schemas.h"
#include "core/strings.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::field;
using net::http::status;
using net::http::verb;

namespace {

std::string version_ref(const net::Exchange& ex) { return std::string(ex.param("version")); }

// The request's Inference-Header-Content-Length (the binary tensor extension), if any.
Expected<std::optional<size_t>> json_header_length(const net::HttpRequest& req) {
  auto h = req.find("Inference-Header-Content-Length");
  if (h == req.end()) return std::optional<size_t>();
  auto n = parse_int<size_t>(std::string_view(h->value().data(), h->value().size()));
  if (!n) return malformed("Inference-Header-Content-Length", "not a byte count");
  return std::optional<size_t>(*n);
}

// An infer body is JSON; with the binary tensor extension it may also be sent as octet-stream.
bool infer_media_type(const net::HttpRequest& req, bool binary_extension) {
  auto h = req[field::content_type];
  std::string_view type(h.data(), h.size());
  return is_json_type(type) ||
         (binary_extension && media_type_is(type, "application/octet-stream"));
}

// The metadata document of a loaded version and the model's versions.
json::object metadata_json(const serving::ModelHandle& h,
                           const std::vector<registry::ModelVersion>& versions) {
  json::array vs;
  for (const auto& v : versions) vs.emplace_back(std::to_string(v.version));
  int64_t features = static_cast<int64_t>(h.model->num_features());
  json::array out_shape{-1};
  for (int64_t dim : h.model->row_output_shape()) out_shape.push_back(dim);
  return {
      {"name", h.resolved->name},
      {"versions", std::move(vs)},
      {"platform", "vigil-" + h.resolved->kind},
      {"inputs", json::array{{{"name", "input-0"},
                              {"datatype", "FP32"},
                              {"shape", json::array{-1, features ? features : -1}}}}},
      {"outputs",
       json::array{{{"name", "predict"}, {"datatype", "FP32"}, {"shape", std::move(out_shape)}}}}};
}

class V2Handlers {
 public:
  explicit V2Handlers(V2InferenceDeps d) : d_(std::move(d)) {}

  void live(const ExchangePtr& ex) const { ex->respond_json(status::ok, {{"live", true}}); }

  void ready(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [this](net::Exchange& ex) {
      bool ready = !d_.ready || d_.ready();
      ex.respond_json(ready ? status::ok : status::service_unavailable, {{"ready", ready}});
    });
  }

  void model_metadata(const ExchangePtr& ex) const {
    d_.server->acquire(
        std::string(ex->param("name")), version_ref(*ex),
        [this, ex](Expected<serving::ModelHandle> handle) {
          if (!handle.ok()) return respond_status(*ex, handle.status());
          if (!check_model_access(*ex, handle->resolved->access, handle->resolved->name)) {
            return;
          }
          off_io(*d_.blocking, ex, [this, h = *handle](net::Exchange& ex) {
            auto model = d_.registry->get(h.resolved->name);
            if (!model.ok()) return respond_status(ex, model.status());
            auto versions = d_.registry->versions(*model);
            if (!versions.ok()) return respond_status(ex, versions.status());
            ex.respond_json(status::ok, metadata_json(h, *versions));
          });
        });
  }

  void model_ready(const ExchangePtr& ex) const {
    d_.server->acquire(
        std::string(ex->param("name")), version_ref(*ex),
        [ex](Expected<serving::ModelHandle> handle) {
          if (!handle.ok()) return respond_status(*ex, handle.status());
          if (!check_model_access(*ex, handle->resolved->access, handle->resolved->name)) return;
          ex->respond_json(status::ok, {{"name", handle->resolved->name}, {"ready", true}});
        });
  }

  void infer(const ExchangePtr& ex) const {
    auto header = json_header_length(ex->request());
    if (!header.ok()) return respond_status(*ex, header.status());
    if (!infer_media_type(ex->request(), header->has_value())) {
      return ex->respond_problem(status::unsupported_media_type,
                                 "send application/json (or application/octet-stream with "
                                 "Inference-Header-Content-Length)");
    }
    auto req = parse_v2_infer(ex->request().body(), d_.max_rows, *header);
    if (!req.ok()) return respond_status(*ex, req.status());
    auto request = std::make_shared<V2InferRequest>(std::move(*req));
    if (request->id.empty()) request->id = ex->request_id();
    d_.server->acquire(
        std::string(ex->param("name")), version_ref(*ex),
        [this, ex, request](Expected<serving::ModelHandle> handle) {
          if (!handle.ok()) return respond_status(*ex, handle.status());
          if (!check_model_access(*ex, handle->resolved->access, handle->resolved->name)) {
            return;
          }
          run(ex, *handle, *request);
        });
  }

 private:
  void run(const ExchangePtr& ex, const serving::ModelHandle& h, V2InferRequest& request) const {
    size_t expected = h.model->num_features();
    if (expected != 0 && request.cols != expected) {
      return respond_status(
          *ex,
          invalid_field("inputs[0].shape", "the model expects " + std::to_string(expected) +
                                               " features, got " + std::to_string(request.cols)));
    }
    const size_t rows = request.rows;
    charge_then(d_.credits, ex, prediction_cost(h.resolved->price_per_row, rows),
                "infer " + h.resolved->label + ", " + std::to_string(rows) + " rows",
                [this, ex, h, data = std::move(request.data), rows, explain = request.explain,
                 id = request.id](auto refund) mutable {
                  d_.server->infer(
                      h, std::move(data), rows, explain,
                      [ex, resolved = h.resolved, id, refund](Expected<serving::Prediction> p) {
                        if (!p.ok()) {
                          refund();
                          return respond_status(*ex, p.status());
                        }
                        ex->respond_json_text(
                            status::ok,
                            v2_infer_response(resolved->name, resolved->version, id, p->values,
                                              p->contributions ? &*p->contributions : nullptr));
                      });
                });
  }

  V2InferenceDeps d_;
};

json::value infer_schema() {
  json::object input{
      {"type", "object"},
      {"properties",
       {{"name", {{"type", "string"}}},
        {"shape", {{"type", "array"}, {"items", {{"type", "integer"}}}}},
        {"datatype", {{"type", "string"}, {"enum", json::array{"FP32", "FP64", "INT32", "INT64"}}}},
        {"data", {{"type", "array"}}}}}};
  return json::object{
      {"type", "object"},
      {"required", json::array{"inputs"}},
      {"properties",
       {{"id", {{"type", "string"}}},
        {"inputs", {{"type", "array"}, {"items", std::move(input)}}},
        {"parameters",
         {{"type", "object"}, {"properties", {{"explain", {{"type", "boolean"}}}}}}}}}};
}

net::RouteSpec live_spec() {
  return {.operation_id = "v2Live",
          .summary = "KServe v2: the server is live",
          .tag = "inference",
          .action = "public",
          .responses = {{200, "Live", object_schema({{"live", "boolean"}})}}};
}

net::RouteSpec ready_spec() {
  return {.operation_id = "v2Ready",
          .summary = "KServe v2: the server is ready (its store answers)",
          .tag = "inference",
          .action = "public",
          .responses = {{200, "Ready", object_schema({{"ready", "boolean"}})},
                        {503, "Not ready", object_schema({{"ready", "boolean"}})}}};
}

net::RouteSpec metadata_spec(bool versioned) {
  return {.operation_id = versioned ? "v2ModelMetadataVersion" : "v2ModelMetadata",
          .summary = versioned ? "KServe v2: a model version's inputs and outputs"
                               : "KServe v2: a model's inputs and outputs (the production alias, "
                                 "else the latest version)",
          .tag = "inference",
          .action = "models.read",
          .responses = {{200, "Metadata",
                         object_schema({{"name", "string"},
                                        {"versions", "array"},
                                        {"platform", "string"},
                                        {"inputs", "array"},
                                        {"outputs", "array"}})},
                        problem_response(404, "No such model or version")}};
}

net::RouteSpec model_ready_spec(bool versioned) {
  return {.operation_id = versioned ? "v2ModelReadyVersion" : "v2ModelReady",
          .summary = "KServe v2: 200 when the model loads and can serve",
          .tag = "inference",
          .action = "models.read",
          .responses = {{200, "Ready", object_schema({{"name", "string"}, {"ready", "boolean"}})},
                        problem_response(404, "No such model or version"),
                        problem_response(422, "Its runtime cannot load the file")}};
}

net::RouteSpec infer_spec(bool versioned, int64_t max_body_bytes) {
  json::value response = json::object{{"type", "object"},
                                      {"properties",
                                       {{"model_name", {{"type", "string"}}},
                                        {"model_version", {{"type", "string"}}},
                                        {"id", {{"type", "string"}}},
                                        {"outputs", {{"type", "array"}}}}}};
  return {.operation_id = versioned ? "v2InferVersion" : "v2Infer",
          .summary =
              "KServe v2 inference (dynamic batching; parameters.explain adds "
              "contributions)",
          .tag = "inference",
          .action = "predict",
          .request_schema = infer_schema(),
          .responses = {{200, "Predictions", std::move(response)},
                        problem_response(400, "Not JSON"),
                        problem_response(404, "No such model or version"),
                        problem_response(415, "Not application/json"),
                        problem_response(
                            422, "Bad input; names the field and the expected feature count")},
          .max_body_bytes = max_body_bytes};
}

}  // namespace

void add_v2_inference_routes(net::Router& router, V2InferenceDeps deps) {
  auto h = std::make_shared<const V2Handlers>(deps);
  router.add(verb::get, "/v2/health/live", live_spec(), bind(h, &V2Handlers::live));
  router.add(verb::get, "/v2/health/ready", ready_spec(), bind(h, &V2Handlers::ready));
  for (bool versioned : {false, true}) {
    std::string base = versioned ? "/v2/models/{name}/versions/{version}" : "/v2/models/{name}";
    router.add(verb::get, base, metadata_spec(versioned), bind(h, &V2Handlers::model_metadata));
    router.add(verb::get, base + "/ready", model_ready_spec(versioned),
               bind(h, &V2Handlers::model_ready));
    router.add(verb::post, base + "/infer", infer_spec(versioned, deps.max_body_bytes),
               bind(h, &V2Handlers::infer));
  }
}

}  // namespace vigil::api
