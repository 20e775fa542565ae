#include "api/inference.h"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <charconv>
#include <cmath>
#include <limits>

#include "api/json_body.h"
#include "api/kserve.h"
#include "api/openapi.h"
#include "api/schemas.h"
#include "core/logging.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::field;
using net::http::status;
using net::http::verb;
using ExchangePtr = std::shared_ptr<net::Exchange>;

namespace {

// Answers a failed acquire/predict: not found → 404, a file the runtime cannot load → 422.
void respond_model_error(net::Exchange& ex, const Status& s) {
  if (s.code() == ErrorCode::kInvalidArgument) {
    return ex.respond_problem(status::unprocessable_entity, s.message());
  }
  respond_status(ex, s);
}

std::string version_ref(const net::Exchange& ex) { return std::string(ex.param("version")); }

json::value v2_infer_schema() {
  return json::object{
      {"type", "object"},
      {"required", json::array{"inputs"}},
      {"properties",
       {{"id", {{"type", "string"}}},
        {"inputs",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties",
             {{"name", {{"type", "string"}}},
              {"shape", {{"type", "array"}, {"items", {{"type", "integer"}}}}},
              {"datatype",
               {{"type", "string"}, {"enum", json::array{"FP32", "FP64", "INT32", "INT64"}}}},
              {"data", {{"type", "array"}}}}}}}}},
        {"parameters",
         {{"type", "object"}, {"properties", {{"explain", {{"type", "boolean"}}}}}}}}}};
}

json::value v2_response_schema() {
  return json::object{{"type", "object"},
                      {"properties",
                       {{"model_name", {{"type", "string"}}},
                        {"model_version", {{"type", "string"}}},
                        {"id", {{"type", "string"}}},
                        {"outputs", {{"type", "array"}}}}}};
}

void infer_v2(const InferenceDeps& d, const ExchangePtr& ex) {
  V2Error error;
  std::optional<size_t> header_length;
  if (auto h = ex->request().find("Inference-Header-Content-Length"); h != ex->request().end()) {
    size_t n = 0;
    auto v = h->value();
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size()) {
      return ex->respond_problem(status::bad_request,
                                 "Inference-Header-Content-Length: not a byte count");
    }
    header_length = n;
  }
  auto req = parse_v2_infer(ex->request().body(), d.max_rows, error, header_length);
  if (!req) {
    std::vector<net::FieldError> fields;
    if (!error.field.empty()) fields.push_back({error.field, error.message});
    std::string detail = error.field.empty() ? error.message : error.field + ": " + error.message;
    return ex->respond_problem(static_cast<status>(error.status), detail, fields);
  }
  std::string id = req->id.empty() ? ex->request_id() : req->id;
  auto request = std::make_shared<V2InferRequest>(std::move(*req));
  d.server->acquire(
      std::string(ex->param("name")), version_ref(*ex),
      [d, ex, request, id](Expected<serving::ModelHandle> handle) {
        if (!handle.ok()) return respond_model_error(*ex, handle.status());
        size_t expected = handle->model->num_features();
        if (expected != 0 && request->cols != expected) {
          std::string msg = "the model expects " + std::to_string(expected) + " features, got " +
                            std::to_string(request->cols);
          return ex->respond_problem(status::unprocessable_entity, "inputs[0].shape: " + msg,
                                     {{"inputs[0].shape", msg}});
        }
        auto h = std::make_shared<serving::ModelHandle>(std::move(*handle));
        size_t rows = request->rows;
        auto finish = [d, ex, h, id, rows](Expected<runtime::Tensor> predicted,
                                           const runtime::Tensor* contributions) {
          if (!predicted.ok()) return respond_model_error(*ex, predicted.status());
          d.server->record_price(*h->resolved, rows);
          net::HttpResponse res{status::ok, 11};
          res.set(field::content_type, "application/json");
          res.body() = v2_infer_response(h->resolved->name, h->resolved->version, id, *predicted,
                                         contributions);
          res.prepare_payload();
          ex->respond(std::move(res));
        };
        if (!request->explain) {
          return d.server->predict(
              *h, std::move(request->data), rows,
              [finish](Expected<runtime::Tensor> p) { finish(std::move(p), nullptr); });
        }
        // Explain: contributions first (blocking pool), then the prediction (batcher).
        std::vector<float> copy = request->data;
        d.server->explain(*h, std::move(copy), rows,
                          [d, h, request, rows, finish, ex](Expected<runtime::Tensor> c) {
                            if (!c.ok()) return respond_model_error(*ex, c.status());
                            auto contributions = std::make_shared<runtime::Tensor>(std::move(*c));
                            d.server->predict(*h, std::move(request->data), rows,
                                              [finish, contributions](Expected<runtime::Tensor> p) {
                                                finish(std::move(p), contributions.get());
                                              });
                          });
      });
}

// GET /v2/models/{name}[/versions/{version}]
void model_metadata_v2(const InferenceDeps& d, const ExchangePtr& ex) {
  d.server->acquire(
      std::string(ex->param("name")), version_ref(*ex),
      [d, ex](Expected<serving::ModelHandle> handle) {
        if (!handle.ok()) return respond_model_error(*ex, handle.status());
        auto h = std::move(*handle);
        boost::asio::post(*d.blocking, [d, ex, h] {
          auto model = d.registry->get(h.resolved->name);
          if (!model.ok()) return respond_status(*ex, model.status());
          auto versions = d.registry->versions(*model);
          if (!versions.ok()) return respond_status(*ex, versions.status());
          json::array vs;
          for (const auto& v : *versions) vs.emplace_back(std::to_string(v.version));
          int64_t features = static_cast<int64_t>(h.model->num_features());
          json::array out_shape{-1};
          for (int64_t dim : h.model->row_output_shape()) out_shape.push_back(dim);
          ex->respond_json(
              status::ok,
              {{"name", h.resolved->name},
               {"versions", std::move(vs)},
               {"platform", "vigil-" + h.resolved->kind},
               {"inputs", json::array{{{"name", "input-0"},
                                       {"datatype", "FP32"},
                                       {"shape", json::array{-1, features ? features : -1}}}}},
               {"outputs", json::array{{{"name", "predict"},
                                        {"datatype", "FP32"},
                                        {"shape", std::move(out_shape)}}}}});
        });
      });
}

void model_ready_v2(const InferenceDeps& d, const ExchangePtr& ex) {
  d.server->acquire(
      std::string(ex->param("name")), version_ref(*ex),
      [ex](Expected<serving::ModelHandle> handle) {
        if (!handle.ok()) return respond_model_error(*ex, handle.status());
        ex->respond_json(status::ok, {{"name", handle->resolved->name}, {"ready", true}});
      });
}

// POST /api/v1/predict/{name}: named features.
void predict_named(const InferenceDeps& d, const ExchangePtr& ex) {
  auto body = read_json_object(*ex);
  if (!body) return;
  bool explain = false;
  if (auto e = ex->query("explain")) explain = *e == "true" || *e == "1";
  std::string version = ex->query("version").value_or("");
  std::vector<const json::object*> rows;
  const json::value* features = body->if_contains("features");
  const json::value* many = body->if_contains("rows");
  for (const auto& [key, value] : *body) {
    if (key != "features" && key != "rows") {
      return ex->respond_problem(status::unprocessable_entity, std::string(key) + ": unknown field",
                                 {{std::string(key), "unknown field"}});
    }
  }
  if ((features != nullptr) == (many != nullptr)) {
    return ex->respond_problem(status::unprocessable_entity,
                               "send either features (one row) or rows (several)",
                               {{"features", "either features or rows is required"}});
  }
  if (features) {
    if (!features->is_object()) {
      return ex->respond_problem(status::unprocessable_entity, "features: must be an object",
                                 {{"features", "must be an object of name: number"}});
    }
    rows.push_back(&features->get_object());
  } else {
    if (!many->is_array() || many->get_array().empty()) {
      return ex->respond_problem(status::unprocessable_entity, "rows: must be a non-empty array",
                                 {{"rows", "must be a non-empty array of objects"}});
    }
    if (many->get_array().size() > d.max_rows) {
      return ex->respond_problem(status::unprocessable_entity,
                                 "rows: at most " + std::to_string(d.max_rows) + " per request",
                                 {{"rows", "too many rows"}});
    }
    for (const auto& r : many->get_array()) {
      if (!r.is_object()) {
        return ex->respond_problem(status::unprocessable_entity, "rows: every row is an object",
                                   {{"rows", "every row must be an object of name: number"}});
      }
      rows.push_back(&r.get_object());
    }
  }
  auto doc = std::make_shared<json::object>(std::move(*body));  // keeps `rows` valid
  d.server->acquire(
      std::string(ex->param("name")), version,
      [d, ex, doc, rows = std::move(rows), explain](Expected<serving::ModelHandle> handle) {
        if (!handle.ok()) return respond_model_error(*ex, handle.status());
        auto h = std::make_shared<serving::ModelHandle>(std::move(*handle));
        const auto& names = h->resolved->features;
        if (names.empty()) {
          return ex->respond_problem(
              status::unprocessable_entity,
              "model " + h->resolved->label +
                  " has no feature names in its metadata; use /v2/models/{name}/infer",
              {{"features", "the model has no feature names"}});
        }
        const size_t cols = names.size();
        std::vector<float> data(rows.size() * cols, std::numeric_limits<float>::quiet_NaN());
        std::vector<net::FieldError> errors;
        for (size_t r = 0; r < rows.size() && errors.size() < 20; ++r) {
          std::string where = rows.size() == 1 && doc->contains("features")
                                  ? std::string("features")
                                  : "rows[" + std::to_string(r) + "]";
          for (const auto& [key, value] : *rows[r]) {
            auto it = h->resolved->feature_index.find(std::string(key));
            if (it == h->resolved->feature_index.end()) {
              errors.push_back({where + "." + std::string(key), "unknown feature"});
              continue;
            }
            if (value.is_null()) continue;
            if (!value.is_number()) {
              errors.push_back({where + "." + std::string(key), "must be a number or null"});
              continue;
            }
            data[r * cols + it->second] = static_cast<float>(value.to_number<double>());
          }
        }
        if (!errors.empty()) {
          std::string detail = errors[0].field + ": " + errors[0].message;
          if (errors.size() > 1) detail += " (and " + std::to_string(errors.size() - 1) + " more)";
          return ex->respond_problem(status::unprocessable_entity, detail, errors);
        }
        size_t n = rows.size();
        auto finish = [d, ex, h, n](Expected<runtime::Tensor> predicted,
                                    std::shared_ptr<runtime::Tensor> contributions) {
          if (!predicted.ok()) return respond_model_error(*ex, predicted.status());
          d.server->record_price(*h->resolved, n);
          const auto& names = h->resolved->features;
          // Written by hand: shortest float digits instead of boost::json's double notation.
          std::string out = "{\"model\":\"";
          append_json_escaped(out, h->resolved->name);
          out += "\",\"version\":" + std::to_string(h->resolved->version) + ",\"predictions\":[";
          size_t per_row = n ? predicted->values.size() / n : 0;
          for (size_t r = 0; r < n; ++r) {
            if (r) out += ',';
            if (predicted->shape.size() == 1) {
              append_json_float(out, predicted->values[r]);
              continue;
            }
            out += '[';
            for (size_t k = 0; k < per_row; ++k) {
              if (k) out += ',';
              append_json_float(out, predicted->values[r * per_row + k]);
            }
            out += ']';
          }
          out += ']';
          if (contributions) {
            // {rows, features+1} or {rows, classes, features+1}: an object per row (per class),
            // the bias as "_bias".
            const size_t width = names.size() + 1;
            auto object_at = [&](size_t offset) {
              out += '{';
              for (size_t f = 0; f <= names.size(); ++f) {
                out += f ? ",\"" : "\"";
                append_json_escaped(out, f < names.size() ? std::string_view(names[f]) : "_bias");
                out += "\":";
                append_json_float(out, contributions->values[offset + f]);
              }
              out += '}';
            };
            out += ",\"contributions\":[";
            size_t classes =
                contributions->shape.size() == 3 ? static_cast<size_t>(contributions->shape[1]) : 0;
            for (size_t r = 0; r < n; ++r) {
              if (r) out += ',';
              if (classes == 0) {
                object_at(r * width);
                continue;
              }
              out += '[';
              for (size_t c = 0; c < classes; ++c) {
                if (c) out += ',';
                object_at((r * classes + c) * width);
              }
              out += ']';
            }
            out += ']';
          }
          out += '}';
          net::HttpResponse res{status::ok, 11};
          res.set(field::content_type, "application/json");
          res.body() = std::move(out);
          res.prepare_payload();
          ex->respond(std::move(res));
        };
        if (!explain) {
          return d.server->predict(*h, std::move(data), n, [finish](Expected<runtime::Tensor> p) {
            finish(std::move(p), nullptr);
          });
        }
        std::vector<float> copy = data;
        d.server->explain(
            *h, std::move(copy), n,
            [d, h, data = std::move(data), n, finish, ex](Expected<runtime::Tensor> c) mutable {
              if (!c.ok()) return respond_model_error(*ex, c.status());
              auto contributions = std::make_shared<runtime::Tensor>(std::move(*c));
              d.server->predict(*h, std::move(data), n,
                                [finish, contributions](Expected<runtime::Tensor> p) {
                                  finish(std::move(p), contributions);
                                });
            });
      });
}

}  // namespace

void add_inference_routes(net::Router& router, InferenceDeps d) {
  router.add(verb::get, "/v2/health/live",
             {.operation_id = "v2Live",
              .summary = "KServe v2: the server is live",
              .tag = "inference",
              .action = "public",
              .responses = {{200, "Live", object_schema({{"live", "boolean"}})}}},
             [](const ExchangePtr& ex) {
               ex->respond_json(status::ok, {{"live", true}});
             });
  router.add(
      verb::get, "/v2/health/ready",
      {.operation_id = "v2Ready",
       .summary = "KServe v2: the server is ready (its store answers)",
       .tag = "inference",
       .action = "public",
       .responses = {{200, "Ready", object_schema({{"ready", "boolean"}})},
                     {503, "Not ready", object_schema({{"ready", "boolean"}})}}},
      [d](const ExchangePtr& ex) {
        boost::asio::post(*d.blocking, [d, ex] {
          bool ready = !d.ready || d.ready();
          ex->respond_json(ready ? status::ok : status::service_unavailable, {{"ready", ready}});
        });
      });

  for (const char* base : {"/v2/models/{name}", "/v2/models/{name}/versions/{version}"}) {
    bool versioned = std::string_view(base).find("{version}") != std::string_view::npos;
    std::string suffix = versioned ? "Version" : "";
    router.add(verb::get, base,
               {.operation_id = "v2ModelMetadata" + suffix,
                .summary = versioned ? "KServe v2: a model version's inputs and outputs"
                                     : "KServe v2: a model's inputs and outputs (the production "
                                       "alias, else the latest version)",
                .tag = "inference",
                .action = "models.read",
                .responses = {{200, "Metadata",
                               object_schema({{"name", "string"},
                                              {"versions", "array"},
                                              {"platform", "string"},
                                              {"inputs", "array"},
                                              {"outputs", "array"}})},
                              problem_response(404, "No such model or version")}},
               [d](const ExchangePtr& ex) { model_metadata_v2(d, ex); });
    router.add(
        verb::get, std::string(base) + "/ready",
        {.operation_id = "v2ModelReady" + suffix,
         .summary = "KServe v2: 200 when the model loads and can serve",
         .tag = "inference",
         .action = "models.read",
         .responses = {{200, "Ready", object_schema({{"name", "string"}, {"ready", "boolean"}})},
                       problem_response(404, "No such model or version"),
                       problem_response(422, "Its runtime cannot load the file")}},
        [d](const ExchangePtr& ex) { model_ready_v2(d, ex); });
    router.add(
        verb::post, std::string(base) + "/infer",
        {.operation_id = "v2Infer" + suffix,
         .summary = "KServe v2 inference (dynamic batching; parameters.explain adds "
                    "contributions)",
         .tag = "inference",
         .action = "predict",
         .request_schema = v2_infer_schema(),
         .responses = {{200, "Predictions", v2_response_schema()},
                       problem_response(400, "Not JSON"),
                       problem_response(404, "No such model or version"),
                       problem_response(
                           422, "Bad input; names the field and the expected feature count")},
         .max_body_bytes = d.max_body_bytes},
        [d](const ExchangePtr& ex) { infer_v2(d, ex); });
  }

  router.add(
      verb::post, "/api/v1/predict/{name}",
      {.operation_id = "predict",
       .summary = "Predict with named features: {features:{…}} or {rows:[{…}]}",
       .tag = "inference",
       .action = "predict",
       .params = {{"version", "query",
                   "A version number, latest, or an alias (default: "
                   "production, else latest)"},
                  {"explain", "query", "true: add per-feature contributions",
                   json::object{{"type", "boolean"}}}},
       .request_schema =
           json::object{{"type", "object"},
                        {"properties",
                         {{"features", {{"type", "object"}}},
                          {"rows", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}},
       .responses = {{200, "Predictions",
                      object_schema({{"model", "string"},
                                     {"version", "integer"},
                                     {"predictions", "array"},
                                     {"contributions", "array"}})},
                     problem_response(404, "No such model or version"),
                     problem_response(422, "Unknown feature names or non-numeric values, named")},
       .max_body_bytes = d.max_body_bytes},
      [d](const ExchangePtr& ex) { predict_named(d, ex); });
}

}  // namespace vigil::api
