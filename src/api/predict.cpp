#include "api/predict.h"

#include <boost/json.hpp>

#include <limits>

#include "api/handler.h"
#include "api/json_body.h"
#include "api/kserve.h"
#include "api/schemas.h"
#include "core/logging.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using net::http::verb;

namespace {

// The request's rows, each an object of feature name → number or null. The document keeps
// the objects alive.
struct NamedRows {
  std::shared_ptr<const json::object> doc;
  std::vector<const json::object*> rows;
  bool single = false;  // sent as {features:{…}}
};

Expected<NamedRows> read_rows(json::object body, size_t max_rows) {
  for (const auto& [key, value] : body) {
    if (key != "features" && key != "rows") return invalid_field(std::string(key), "unknown field");
  }
  NamedRows out;
  out.doc = std::make_shared<const json::object>(std::move(body));
  const json::value* features = out.doc->if_contains("features");
  const json::value* many = out.doc->if_contains("rows");
  if ((features != nullptr) == (many != nullptr)) {
    return invalid_field("features", "send either features (one row) or rows (several)");
  }
  if (features) {
    if (!features->is_object()) return invalid_field("features", "must be an object");
    out.rows.push_back(&features->get_object());
    out.single = true;
    return out;
  }
  if (!many->is_array() || many->get_array().empty()) {
    return invalid_field("rows", "must be a non-empty array of objects");
  }
  if (many->get_array().size() > max_rows) {
    return invalid_field("rows", "at most " + std::to_string(max_rows) + " per request");
  }
  for (const auto& r : many->get_array()) {
    if (!r.is_object()) return invalid_field("rows", "every row must be an object");
    out.rows.push_back(&r.get_object());
  }
  return out;
}

// The rows as the model's dense matrix (missing features NaN); the first 20 errors, each naming
// its row and feature, when some name is unknown or some value not a number.
std::vector<float> to_matrix(const NamedRows& in, const serving::ResolvedModel& model,
                             std::vector<net::FieldError>& errors) {
  const size_t cols = model.features.size();
  std::vector<float> data(in.rows.size() * cols, std::numeric_limits<float>::quiet_NaN());
  for (size_t r = 0; r < in.rows.size() && errors.size() < 20; ++r) {
    std::string where = in.single ? std::string("features") : "rows[" + std::to_string(r) + "]";
    for (const auto& [key, value] : *in.rows[r]) {
      auto it = model.feature_index.find(std::string(key));
      if (it == model.feature_index.end()) {
        errors.push_back({where + "." + std::string(key), "unknown feature"});
      } else if (!value.is_null() && !value.is_number()) {
        errors.push_back({where + "." + std::string(key), "must be a number or null"});
      } else if (value.is_number()) {
        data[r * cols + it->second] = static_cast<float>(value.to_number<double>());
      }
    }
  }
  return data;
}

// {feature: contribution, …, "_bias": b} of one row (or one class of a row) at `offset`.
void append_contributions(std::string& out, const std::vector<std::string>& names,
                          const runtime::Tensor& c, size_t offset) {
  out += '{';
  for (size_t f = 0; f <= names.size(); ++f) {
    out += f ? ",\"" : "\"";
    append_json_escaped(out, f < names.size() ? std::string_view(names[f]) : "_bias");
    out += "\":";
    append_json_float(out, c.values[offset + f]);
  }
  out += '}';
}

// One value per row, or an array per row (several outputs a row).
void append_predictions(std::string& out, const runtime::Tensor& p, size_t n) {
  size_t per_row = n ? p.values.size() / n : 0;
  for (size_t r = 0; r < n; ++r) {
    if (r) out += ',';
    if (p.shape.size() == 1) {
      append_json_float(out, p.values[r]);
      continue;
    }
    out += '[';
    for (size_t k = 0; k < per_row; ++k) {
      if (k) out += ',';
      append_json_float(out, p.values[r * per_row + k]);
    }
    out += ']';
  }
}

// Written by hand: shortest float digits instead of boost::json's double notation.
std::string prediction_json(const serving::ResolvedModel& m, const serving::Prediction& p,
                            size_t n) {
  std::string out = "{\"model\":\"";
  append_json_escaped(out, m.name);
  out += "\",\"version\":" + std::to_string(m.version) + ",\"predictions\":[";
  append_predictions(out, p.values, n);
  out += ']';
  if (p.contributions) {
    // {rows, features+1} or {rows, classes, features+1}: an object per row (per class).
    const auto& c = *p.contributions;
    const size_t width = m.features.size() + 1;
    const size_t classes = c.shape.size() == 3 ? static_cast<size_t>(c.shape[1]) : 0;
    out += ",\"contributions\":[";
    for (size_t r = 0; r < n; ++r) {
      if (r) out += ',';
      if (classes == 0) {
        append_contributions(out, m.features, c, r * width);
        continue;
      }
      out += '[';
      for (size_t k = 0; k < classes; ++k) {
        if (k) out += ',';
        append_contributions(out, m.features, c, (r * classes + k) * width);
      }
      out += ']';
    }
    out += ']';
  }
  out += '}';
  return out;
}

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
          run(d, ex, *handle, rows, explain);
        });
  }

 private:
  static void run(const PredictDeps& d, const ExchangePtr& ex, const serving::ModelHandle& h,
                  const NamedRows& rows, bool explain) {
    const auto& model = *h.resolved;
    if (model.features.empty()) {
      return respond_status(*ex,
                            invalid_field("features", "model " + model.label +
                                                          " has no feature names in its "
                                                          "metadata; use /v2/models/{name}/infer"));
    }
    std::vector<net::FieldError> errors;
    std::vector<float> data = to_matrix(rows, model, errors);
    if (!errors.empty()) {
      std::string detail = errors[0].field + ": " + errors[0].message;
      if (errors.size() > 1) detail += " (and " + std::to_string(errors.size() - 1) + " more)";
      return ex->respond_problem(status::unprocessable_entity, detail, errors);
    }
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
                        ex->respond_json_text(status::ok, prediction_json(*resolved, *p, n));
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
