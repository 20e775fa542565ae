#include "api/predict.h"

#include <boost/json.hpp>

#include <limits>

#include "api/handler.h"
#include "api/json_body.h"
#include "api/kserve.h"
#include "api/model_json.h"
#include "api/schemas.h"
#include "core/logging.h"
#include "serving/named_rows.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using net::http::verb;

namespace {

// {features:{…}} (one row) or {rows:[{…},…]} (several) as named rows.
Expected<serving::NamedRows> read_rows(json::object body, size_t max_rows) {
  for (const auto& [key, value] : body) {
    if (key != "features" && key != "rows") return invalid_field(std::string(key), "unknown field");
  }
  auto doc = std::make_shared<const json::value>(std::move(body));
  const json::value* features = doc->get_object().if_contains("features");
  const json::value* many = doc->get_object().if_contains("rows");
  if ((features != nullptr) == (many != nullptr)) {
    return invalid_field("features", "send either features (one row) or rows (several)");
  }
  if (many) return serving::named_rows(doc, *many, max_rows);
  if (!features->is_object()) return invalid_field("features", "must be an object");
  serving::NamedRows out;
  out.rows.push_back(&features->get_object());
  out.single = true;
  out.doc = std::move(doc);
  return out;
}

}  // namespace

// 422 naming every issue (the first in the detail).
void respond_issues(net::Exchange& ex, const std::vector<serving::FieldIssue>& issues) {
  std::vector<net::FieldError> errors;
  for (const auto& i : issues) errors.push_back({i.field, i.message});
  std::string detail = errors[0].field + ": " + errors[0].message;
  if (errors.size() > 1) detail += " (and " + std::to_string(errors.size() - 1) + " more)";
  ex.respond_problem(status::unprocessable_entity, detail, errors);
}

namespace {

class PredictHandlers {
 public:
  explicit PredictHandlers(PredictDeps d) : d_(d) {}

  void predict(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    auto rows = read_rows(std::move(*body), d_.max_rows);
    if (!rows.ok()) return respond_status(*ex, rows.status());
    auto e = ex->query("explain");
    bool explain = e && (*e == "true" || *e == "1");
    d_.server->acquire(
        std::string(ex->param("name")), ex->query("version").value_or(""),
        [d = d_, ex, rows = std::move(*rows), explain](Expected<serving::ModelHandle> handle) {
          if (!handle.ok()) return respond_status(*ex, handle.status());
          if (!check_model_access(*ex, handle->resolved->access, handle->resolved->name)) return;
          run(d, ex, *handle, rows, explain);
        });
  }

 private:
  static void run(const PredictDeps& d, const ExchangePtr& ex, const serving::ModelHandle& h,
                  const serving::NamedRows& rows, bool explain) {
    const auto& model = *h.resolved;
    if (model.features.empty()) {
      return respond_status(*ex,
                            invalid_field("features", "model " + model.label +
                                                          " has no feature names in its "
                                                          "metadata; use /v2/models/{name}/infer"));
    }
    std::vector<serving::FieldIssue> issues;
    std::vector<float> data = serving::to_matrix(rows, model, issues);
    if (!issues.empty()) return respond_issues(*ex, issues);
    size_t n = rows.rows.size();
    charge_then(d.credits, ex, prediction_cost(model.price_per_row, n),
                "predict " + model.label + ", " + std::to_string(n) + " rows",
                [d, ex, h, data = std::move(data), n, explain](auto refund) mutable {
                  d.server->infer(
                      h, std::move(data), n, explain,
                      [ex, resolved = h.resolved, n, refund](Expected<serving::Prediction> p) {
                        if (!p.ok()) {
                          refund();
                          return respond_status(*ex, p.status());
                        }
                        ex->respond_json_text(status::ok,
                                              serving::prediction_json(*resolved, *p, n));
                      });
                });
  }

  PredictDeps d_;
};

// A row's named values: feature → number, null for missing.
json::value named_row_schema() {
  return json::object{{"type", "object"},
                      {"additionalProperties", {{"type", json::array{"number", "null"}}}}};
}

json::value prediction_schema() {
  json::value contribution =
      json::object{{"type", "object"},
                   {"description", "feature → contribution (margin space), the bias as _bias"},
                   {"additionalProperties", {{"type", "number"}}}};
  json::value per_row =
      json::object{{"oneOf", json::array{{{"type", "number"}},
                                         {{"type", "array"}, {"items", {{"type", "number"}}}}}}};
  return json::object{
      {"type", "object"},
      {"required", {"model", "version", "predictions"}},
      {"properties",
       {{"model", {{"type", "string"}}},
        {"version", {{"type", "integer"}}},
        {"predictions",
         {{"type", "array"},
          {"description", "per row: a value, or one per class"},
          {"items", per_row}}},
        {"contributions",
         {{"type", "array"},
          {"description", "with explain: per row an object, or one per class"},
          {"items",
           {{"oneOf",
             json::array{contribution, {{"type", "array"}, {"items", contribution}}}}}}}}}}};
}

net::RouteSpec predict_spec(int64_t max_body_bytes) {
  return {
      .operation_id = "predict",
      .summary = "Predict with named features: {features:{…}} or {rows:[{…}]}",
      .tag = "inference",
      .action = "predict",
      .params = {{"version", "query",
                  "A version number, latest, or an alias (default: production, else latest)"},
                 {"explain", "query", "true: add per-feature contributions",
                  json::object{{"type", "boolean"}}}},
      .request_schema =
          json::object{{"type", "object"},
                       {"properties",
                        {{"features", named_row_schema()},
                         {"rows", {{"type", "array"}, {"items", named_row_schema()}}}}}},
      .responses = {{200, "Predictions", prediction_schema()},
                    problem_response(404, "No such model or version"),
                    problem_response(422, "Unknown feature names or non-numeric values, named")},
      .max_body_bytes = max_body_bytes};
}

}  // namespace

void add_predict_routes(net::Router& router, PredictDeps deps) {
  auto h = std::make_shared<const PredictHandlers>(deps);
  router.add(verb::post, "/api/v1/predict/{name}", predict_spec(deps.max_body_bytes),
             bind(h, &PredictHandlers::predict));
}

}  // namespace vigil::api
