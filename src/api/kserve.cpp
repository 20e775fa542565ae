#include "api/kserve.h"

#include <boost/json.hpp>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/logging.h"

namespace vigil::api {
namespace json = boost::json;

namespace {

constexpr int kMaxNesting = 8;

// Appends the numbers of a (possibly nested) array, row-major. false + error on a bad element.
bool flatten(const json::value& v, int depth, std::vector<float>& out, size_t limit,
             V2Error& error) {
  if (v.is_array()) {
    if (depth > kMaxNesting) {
      error = {422, "inputs[0].data", "nested too deeply"};
      return false;
    }
    for (const auto& e : v.get_array()) {
      if (!flatten(e, depth + 1, out, limit, error)) return false;
    }
    return true;
  }
  if (out.size() >= limit) {
    error = {422, "inputs[0].data", "has more values than the shape says"};
    return false;
  }
  switch (v.kind()) {
    case json::kind::double_: out.push_back(static_cast<float>(v.get_double())); return true;
    case json::kind::int64: out.push_back(static_cast<float>(v.get_int64())); return true;
    case json::kind::uint64: out.push_back(static_cast<float>(v.get_uint64())); return true;
    case json::kind::null: out.push_back(std::numeric_limits<float>::quiet_NaN()); return true;
    default:
      error = {422, "inputs[0].data",
               "value " + std::to_string(out.size()) + " is not a number or null"};
      return false;
  }
}

void append_tensor(std::string& out, const char* name, const runtime::Tensor& t) {
  out += "{\"name\":\"";
  out += name;
  out += "\",\"datatype\":\"FP32\",\"shape\":[";
  for (size_t i = 0; i < t.shape.size(); ++i) {
    if (i) out += ',';
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, t.shape[i]);
    out.append(buf, end);
  }
  out += "],\"data\":[";
  for (size_t i = 0; i < t.values.size(); ++i) {
    if (i) out += ',';
    append_json_float(out, t.values[i]);
  }
  out += "]}";
}

}  // namespace

void append_json_float(std::string& out, float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

std::optional<V2InferRequest> parse_v2_infer(std::string_view body, size_t max_rows, V2Error& error,
                                             std::optional<size_t> json_header_length) {
  std::string_view binary;
  if (json_header_length) {
    if (*json_header_length > body.size()) {
      error = {400, "", "Inference-Header-Content-Length is larger than the body"};
      return std::nullopt;
    }
    binary = body.substr(*json_header_length);
    body = body.substr(0, *json_header_length);
  }
  // The document's memory comes from a buffer each thread keeps, so a large batch does not
  // allocate (and page-fault) its DOM afresh on every request; bigger documents spill to the heap.
  thread_local std::vector<unsigned char> arena(std::size_t{1} << 20);
  json::monotonic_resource mr(arena.data(), arena.size());
  json::parse_options opts;
  opts.max_depth = 32;
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec, &mr, opts);
  if (ec) {
    error = {400, "", "the body is not JSON: " + ec.message()};
    return std::nullopt;
  }
  if (!doc.is_object()) {
    error = {400, "", "the body must be a JSON object"};
    return std::nullopt;
  }
  const json::object& o = doc.get_object();
  V2InferRequest req;
  if (const auto* id = o.if_contains("id")) {
    if (!id->is_string()) {
      error = {422, "id", "must be a string"};
      return std::nullopt;
    }
    req.id = std::string(id->get_string());
  }
  if (const auto* params = o.if_contains("parameters"); params && !params->is_null()) {
    if (!params->is_object()) {
      error = {422, "parameters", "must be an object"};
      return std::nullopt;
    }
    if (const auto* e = params->get_object().if_contains("explain")) {
      if (!e->is_bool()) {
        error = {422, "parameters.explain", "must be true or false"};
        return std::nullopt;
      }
      req.explain = e->get_bool();
    }
  }
  const auto* inputs = o.if_contains("inputs");
  if (!inputs || !inputs->is_array() || inputs->get_array().size() != 1) {
    error = {422, "inputs", "must be an array with exactly one input tensor"};
    return std::nullopt;
  }
  const json::value& input = inputs->get_array()[0];
  if (!input.is_object()) {
    error = {422, "inputs[0]", "must be an object"};
    return std::nullopt;
  }
  const json::object& in = input.get_object();
  const auto* datatype = in.if_contains("datatype");
  if (!datatype || !datatype->is_string()) {
    error = {422, "inputs[0].datatype", "required: FP32, FP64, INT32 or INT64"};
    return std::nullopt;
  }
  std::string_view dt = datatype->get_string();
  if (dt != "FP32" && dt != "FP64" && dt != "INT32" && dt != "INT64") {
    error = {422, "inputs[0].datatype",
             "must be FP32, FP64, INT32 or INT64, not " + std::string(dt)};
    return std::nullopt;
  }
  const auto* shape = in.if_contains("shape");
  if (!shape || !shape->is_array() || shape->get_array().size() != 2) {
    error = {422, "inputs[0].shape", "must be [rows, features]"};
    return std::nullopt;
  }
  int64_t dims[2] = {0, 0};
  for (size_t i = 0; i < 2; ++i) {
    const auto& d = shape->get_array()[i];
    if (!d.is_int64() || d.get_int64() < (i == 0 ? 1 : 0)) {
      error = {422, "inputs[0].shape", "must be [rows, features] with rows ≥ 1"};
      return std::nullopt;
    }
    dims[i] = d.get_int64();
  }
  if (static_cast<uint64_t>(dims[0]) > max_rows) {
    error = {422, "inputs[0].shape", "at most " + std::to_string(max_rows) + " rows per request"};
    return std::nullopt;
  }
  if (dims[1] > 1000000) {
    error = {422, "inputs[0].shape", "at most 1000000 features"};
    return std::nullopt;
  }
  req.rows = static_cast<size_t>(dims[0]);
  req.cols = static_cast<size_t>(dims[1]);
  const size_t expected = req.rows * req.cols;
  const json::value* binary_size = nullptr;
  if (const auto* p = in.if_contains("parameters"); p && p->is_object()) {
    binary_size = p->get_object().if_contains("binary_data_size");
  }
  if (binary_size) {
    // The binary tensor extension: the values follow the JSON header, little-endian.
    const size_t width = (dt == "FP64" || dt == "INT64") ? 8 : 4;
    if (!json_header_length || !binary_size->is_int64() ||
        static_cast<uint64_t>(binary_size->get_int64()) != expected * width ||
        binary.size() != expected * width) {
      error = {422, "inputs[0].parameters.binary_data_size",
               "must be rows × features × " + std::to_string(width) +
                   " bytes, sent after a JSON header of Inference-Header-Content-Length bytes"};
      return std::nullopt;
    }
    req.data.resize(expected);
    const char* p = binary.data();
    for (size_t i = 0; i < expected; ++i, p += width) {
      if (dt == "FP32") {
        std::memcpy(&req.data[i], p, 4);
      } else if (dt == "FP64") {
        double v;
        std::memcpy(&v, p, 8);
        req.data[i] = static_cast<float>(v);
      } else if (dt == "INT32") {
        int32_t v;
        std::memcpy(&v, p, 4);
        req.data[i] = static_cast<float>(v);
      } else {
        int64_t v;
        std::memcpy(&v, p, 8);
        req.data[i] = static_cast<float>(v);
      }
    }
    return req;
  }
  const auto* data = in.if_contains("data");
  if (!data || !data->is_array()) {
    error = {422, "inputs[0].data", "required: an array of numbers (null = missing)"};
    return std::nullopt;
  }
  req.data.reserve(expected);
  if (!flatten(*data, 0, req.data, expected, error)) return std::nullopt;
  if (req.data.size() != expected) {
    error = {422, "inputs[0].data",
             "has " + std::to_string(req.data.size()) + " values; the shape says " +
                 std::to_string(expected)};
    return std::nullopt;
  }
  return req;
}

std::string v2_infer_response(std::string_view model_name, int64_t version, std::string_view id,
                              const runtime::Tensor& predict,
                              const runtime::Tensor* contributions) {
  std::string out;
  out.reserve(96 + predict.values.size() * 12 +
              (contributions ? contributions->values.size() * 12 : 0));
  out += "{\"model_name\":\"";
  append_json_escaped(out, model_name);
  out += "\",\"model_version\":\"";
  out += std::to_string(version);
  out += "\",\"id\":\"";
  append_json_escaped(out, id);
  out += "\",\"outputs\":[";
  append_tensor(out, "predict", predict);
  if (contributions) {
    out += ',';
    append_tensor(out, "contributions", *contributions);
  }
  out += "]}";
  return out;
}

}  // namespace vigil::api
