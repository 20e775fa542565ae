#include "serving/named_rows.h"

#include <boost/json.hpp>

#include <cmath>
#include <limits>

#include "core/json_text.h"
#include "core/logging.h"

namespace vigil::serving {
namespace json = boost::json;

Expected<NamedRows> named_rows(std::shared_ptr<const json::value> doc, const json::value& rows,
                               size_t max_rows) {
  if (!rows.is_array() || rows.get_array().empty()) {
    return invalid_field("rows", "must be a non-empty array of objects");
  }
  if (rows.get_array().size() > max_rows) {
    return invalid_field("rows", "at most " + std::to_string(max_rows) + " per request");
  }
  NamedRows out;
  out.doc = std::move(doc);
  for (const auto& r : rows.get_array()) {
    if (!r.is_object()) return invalid_field("rows", "every row must be an object");
    out.rows.push_back(&r.get_object());
  }
  return out;
}

std::vector<float> to_matrix(const NamedRows& in, const ResolvedModel& model,
                             std::vector<FieldIssue>& issues) {
  const size_t cols = model.features.size();
  std::vector<float> data(in.rows.size() * cols, std::numeric_limits<float>::quiet_NaN());
  for (size_t r = 0; r < in.rows.size() && issues.size() < 20; ++r) {
    std::string where = in.single ? std::string("features") : "rows[" + std::to_string(r) + "]";
    for (const auto& [key, value] : *in.rows[r]) {
      auto it = model.feature_index.find(std::string(key));
      if (it == model.feature_index.end()) {
        issues.push_back({where + "." + std::string(key), "unknown feature"});
      } else if (!value.is_null() && !value.is_number()) {
        issues.push_back({where + "." + std::string(key), "must be a number or null"});
      } else if (value.is_number()) {
        data[r * cols + it->second] = static_cast<float>(value.to_number<double>());
      }
    }
  }
  return data;
}

namespace {

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

// Row r's prediction: one value, or an array (several outputs a row).
void append_prediction(std::string& out, const runtime::Tensor& p, size_t n, size_t r) {
  const size_t per_row = n ? p.values.size() / n : 0;
  if (p.shape.size() == 1) {
    append_json_float(out, p.values[r]);
    return;
  }
  out += '[';
  for (size_t k = 0; k < per_row; ++k) {
    if (k) out += ',';
    append_json_float(out, p.values[r * per_row + k]);
  }
  out += ']';
}

// Row r's contributions: an object, or one per class.
void append_row_contributions(std::string& out, const ResolvedModel& m, const runtime::Tensor& c,
                              size_t r) {
  const size_t width = m.features.size() + 1;
  const size_t classes = c.shape.size() == 3 ? static_cast<size_t>(c.shape[1]) : 0;
  if (classes == 0) return append_contributions(out, m.features, c, r * width);
  out += '[';
  for (size_t k = 0; k < classes; ++k) {
    if (k) out += ',';
    append_contributions(out, m.features, c, (r * classes + k) * width);
  }
  out += ']';
}

void append_head(std::string& out, const ResolvedModel& m) {
  out += "{\"model\":\"";
  append_json_escaped(out, m.name);
  out += "\",\"version\":" + std::to_string(m.version);
}

}  // namespace

// Written by hand: shortest float digits instead of boost::json's double notation.
std::string prediction_json(const ResolvedModel& m, const Prediction& p, size_t n) {
  std::string out;
  append_head(out, m);
  out += ",\"predictions\":[";
  for (size_t r = 0; r < n; ++r) {
    if (r) out += ',';
    append_prediction(out, p.values, n, r);
  }
  out += ']';
  if (p.contributions) {
    out += ",\"contributions\":[";
    for (size_t r = 0; r < n; ++r) {
      if (r) out += ',';
      append_row_contributions(out, m, *p.contributions, r);
    }
    out += ']';
  }
  out += '}';
  return out;
}

std::vector<Band> bands_of(const std::string& metadata_json) {
  std::vector<Band> out;
  boost::system::error_code ec;
  json::value meta = parse_json(metadata_json, ec);
  if (ec || !meta.is_object()) return out;
  const json::value* bands = meta.get_object().if_contains("bands");
  if (!bands || !bands->is_array()) return out;
  for (const auto& b : bands->get_array()) {
    if (!b.is_object()) continue;
    Band band;
    const auto& o = b.get_object();
    if (const auto* below = o.if_contains("below"); below && below->is_number()) {
      band.below = below->to_number<double>();
    }
    if (const auto* l = o.if_contains("label"); l && l->is_string()) band.label = l->get_string();
    if (const auto* c = o.if_contains("color"); c && c->is_string()) band.color = c->get_string();
    out.push_back(std::move(band));
  }
  return out;
}

const Band* band_for(const std::vector<Band>& bands, double value) {
  if (!std::isfinite(value)) return nullptr;
  for (const auto& b : bands) {
    if (!b.below || value < *b.below) return &b;
  }
  return nullptr;
}

std::string task_result_json(const ResolvedModel& m, const Prediction& p, size_t n) {
  const std::vector<Band> bands = bands_of(m.metadata);
  std::string out;
  append_head(out, m);
  out += ",\"rows\":[";
  for (size_t r = 0; r < n; ++r) {
    if (r) out += ',';
    out += "{\"prediction\":";
    append_prediction(out, p.values, n, r);
    out += ",\"band\":";
    const Band* band = p.values.shape.size() == 1 ? band_for(bands, p.values.values[r]) : nullptr;
    if (band) {
      out += "{\"label\":\"";
      append_json_escaped(out, band->label);
      out += "\",\"color\":\"";
      append_json_escaped(out, band->color);
      out += "\"}";
    } else {
      out += "null";
    }
    if (p.contributions) {
      out += ",\"contributions\":";
      append_row_contributions(out, m, *p.contributions, r);
    }
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace vigil::serving
