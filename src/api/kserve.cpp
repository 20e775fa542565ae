#include "api/kserve.h"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "core/logging.h"

namespace vigil::api {
namespace json = boost::json;

namespace {

constexpr int kMaxNesting = 8;

// Parses the request with Boost.JSON's SAX parser. Everything is built into a DOM as
// json::parse would, except the values of inputs[0].data: those go straight into a float vector
// (null → NaN), and the DOM gets an empty array in their place. A large request then costs no
// DOM node per number and no second pass. A value there that is not a number or null, or arrays
// nested too deeply, are noted in data_error (reported after the checks of the other members,
// as before) and the rest of the array is skipped.
class V2Handler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  V2Handler(json::storage_ptr sp, std::vector<float>& data) : data_(data) { st_.reset(sp); }

  json::value release() { return st_.release(); }
  bool data_seen() const { return data_seen_; }
  const std::optional<Status>& data_error() const { return data_error_; }
  // The index of the first value of the data with a fractional part (1.5), if any.
  std::optional<size_t> first_fraction() const { return first_fraction_; }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    if (data_depth_ > 0) return bad_value();
    const bool input0 = frames_.size() == 2 && frames_[1].inputs && frames_[1].elements == 0;
    begin_value();
    frames_.push_back({.object = true, .input0 = input0});
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code&) {
    if (data_depth_ > 0) return true;  // an object inside the data: noted, skipped
    frames_.pop_back();
    st_.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) {
    if (data_depth_ > 0) {
      if (++data_depth_ > kMaxNesting + 1 && !data_error_) {
        data_error_ = invalid_field("inputs[0].data", "nested too deeply");
      }
      return true;
    }
    const bool starts_data = !frames_.empty() && frames_.back().input0 && frames_.back().key_data;
    const bool inputs = frames_.size() == 1 && frames_[0].key_inputs;
    begin_value();
    if (starts_data) {
      data_depth_ = 1;
      data_seen_ = true;
      data_.clear();  // a repeated "data" member: the last one counts, as in a DOM
      data_error_.reset();
      return true;
    }
    frames_.push_back({.object = false, .inputs = inputs});
    return true;
  }
  bool on_array_end(std::size_t n, json::error_code&) {
    if (data_depth_ > 0) {
      if (--data_depth_ == 0) st_.push_array(0);  // the DOM's stand-in for the data
      return true;
    }
    frames_.pop_back();
    st_.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    if (data_depth_ > 0) return true;
    key_ += std::string_view(s.data(), s.size());
    st_.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    if (data_depth_ > 0) return true;
    std::string_view key(s.data(), s.size());
    if (!key_.empty()) {
      key_ += key;
      key = key_;
    }
    Frame& f = frames_.back();
    f.key_inputs = frames_.size() == 1 && key == "inputs";
    f.key_data = f.input0 && key == "data";
    key_.clear();
    st_.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    if (data_depth_ == 0) st_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    if (data_depth_ > 0) return bad_value();
    begin_value();
    st_.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    if (data_depth_ > 0) return number(static_cast<float>(i));
    begin_value();
    st_.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    if (data_depth_ > 0) return number(static_cast<float>(u));
    begin_value();
    st_.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    if (data_depth_ > 0) {
      // 1e999 parses as infinity, 1e39 overflows a float: neither is a value a model can take.
      if (!std::isfinite(d) || std::abs(d) > std::numeric_limits<float>::max()) {
        return out_of_range();
      }
      if (!first_fraction_ && std::trunc(d) != d) first_fraction_ = data_.size();
      return number(static_cast<float>(d));
    }
    begin_value();
    st_.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    if (data_depth_ > 0) return bad_value();
    begin_value();
    st_.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    if (data_depth_ > 0) return number(std::numeric_limits<float>::quiet_NaN());
    begin_value();
    st_.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  // An open object or array outside the data; the flags say where it is.
  struct Frame {
    bool object = false;
    bool inputs = false;      // the root's "inputs" array
    bool input0 = false;      // the object that is inputs[0]
    size_t elements = 0;      // arrays: values begun so far
    bool key_inputs = false;  // objects: the current key is the root's "inputs"
    bool key_data = false;    // objects: the current key is inputs[0]'s "data"
  };

  void begin_value() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().elements;
  }
  bool number(float v) {
    if (!data_error_) data_.push_back(v);
    return true;
  }
  bool out_of_range() {
    if (!data_error_) {
      data_error_ = invalid_field(
          "inputs[0].data", "value " + std::to_string(data_.size()) + " is out of range for FP32");
    }
    return true;
  }
  bool bad_value() {
    if (!data_error_) {
      data_error_ = invalid_field(
          "inputs[0].data", "value " + std::to_string(data_.size()) + " is not a number or null");
    }
    return true;  // the parser goes on checking the syntax
  }

  json::value_stack st_;
  std::vector<float>& data_;
  std::vector<Frame> frames_;
  std::string key_;         // a key arriving in parts
  int data_depth_ = 0;      // > 0: inside inputs[0].data, at this array depth
  bool data_seen_ = false;  // inputs[0].data was an array
  std::optional<Status> data_error_;
  std::optional<size_t> first_fraction_;
};

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

namespace {

// The root's id and parameters.explain.
Status read_request_members(const json::object& o, V2InferRequest& req) {
  if (const auto* id = o.if_contains("id")) {
    if (!id->is_string()) return invalid_field("id", "must be a string");
    req.id = std::string(id->get_string());
  }
  if (const auto* params = o.if_contains("parameters"); params && !params->is_null()) {
    if (!params->is_object()) return invalid_field("parameters", "must be an object");
    if (const auto* e = params->get_object().if_contains("explain")) {
      if (!e->is_bool()) return invalid_field("parameters.explain", "must be true or false");
      req.explain = e->get_bool();
    }
  }
  return {};
}

// inputs[0]'s datatype and shape into req.rows and req.cols; the datatype's name.
Expected<std::string_view> read_tensor_header(const json::object& in, size_t max_rows,
                                              V2InferRequest& req) {
  const auto* datatype = in.if_contains("datatype");
  if (!datatype || !datatype->is_string()) {
    return invalid_field("inputs[0].datatype", "required: FP32, FP64, INT32 or INT64");
  }
  std::string_view dt = datatype->get_string();
  if (dt != "FP32" && dt != "FP64" && dt != "INT32" && dt != "INT64") {
    return invalid_field("inputs[0].datatype",
                         "must be FP32, FP64, INT32 or INT64, not " + std::string(dt));
  }
  const auto* shape = in.if_contains("shape");
  if (!shape || !shape->is_array() || shape->get_array().size() != 2) {
    return invalid_field("inputs[0].shape", "must be [rows, features]");
  }
  int64_t dims[2] = {0, 0};
  for (size_t i = 0; i < 2; ++i) {
    const auto& d = shape->get_array()[i];
    if (!d.is_int64() || d.get_int64() < (i == 0 ? 1 : 0)) {
      return invalid_field("inputs[0].shape", "must be [rows, features] with rows ≥ 1");
    }
    dims[i] = d.get_int64();
  }
  if (static_cast<uint64_t>(dims[0]) > max_rows) {
    return invalid_field("inputs[0].shape",
                         "at most " + std::to_string(max_rows) + " rows per request");
  }
  if (dims[1] > 1000000) return invalid_field("inputs[0].shape", "at most 1000000 features");
  req.rows = static_cast<size_t>(dims[0]);
  req.cols = static_cast<size_t>(dims[1]);
  return dt;
}

// One little-endian value of datatype `dt` at p.
float binary_value(std::string_view dt, const char* p) {
  if (dt == "FP32") {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  if (dt == "FP64") {
    double v;
    std::memcpy(&v, p, 8);
    return static_cast<float>(v);
  }
  if (dt == "INT32") {
    int32_t v;
    std::memcpy(&v, p, 4);
    return static_cast<float>(v);
  }
  int64_t v;
  std::memcpy(&v, p, 8);
  return static_cast<float>(v);
}

// The binary tensor extension: the values follow the JSON header, little-endian.
Status read_binary_data(const json::value& binary_size, std::string_view dt,
                        std::string_view binary, bool have_header, V2InferRequest& req) {
  const size_t expected = req.rows * req.cols;
  const size_t width = (dt == "FP64" || dt == "INT64") ? 8 : 4;
  if (!have_header || !binary_size.is_int64() ||
      static_cast<uint64_t>(binary_size.get_int64()) != expected * width ||
      binary.size() != expected * width) {
    return invalid_field(
        "inputs[0].parameters.binary_data_size",
        "must be rows × features × " + std::to_string(width) +
            " bytes, sent after a JSON header of Inference-Header-Content-Length bytes");
  }
  req.data.resize(expected);
  for (size_t i = 0; i < expected; ++i) req.data[i] = binary_value(dt, binary.data() + i * width);
  return {};
}

// The values the SAX handler collected from inputs[0].data, against the datatype `dt`.
Status check_json_data(const json::object& in, const V2Handler& handler, std::string_view dt,
                       const V2InferRequest& req) {
  const auto* data = in.if_contains("data");
  if (!data || !data->is_array() || !handler.data_seen()) {
    return invalid_field("inputs[0].data", "required: an array of numbers (null = missing)");
  }
  if (const auto& e = handler.data_error()) return *e;
  if (auto at = handler.first_fraction(); at && (dt == "INT32" || dt == "INT64")) {
    return invalid_field(
        "inputs[0].data",
        "value " + std::to_string(*at) + " is not an integer (datatype " + std::string(dt) + ")");
  }
  const size_t expected = req.rows * req.cols;
  if (req.data.size() != expected) {
    return invalid_field("inputs[0].data", "has " + std::to_string(req.data.size()) +
                                               " values; the shape says " +
                                               std::to_string(expected));
  }
  return {};
}

// The members of a parsed document (the root object).
Status read_document(const json::object& o, const V2Handler& handler, size_t max_rows,
                     std::string_view binary, bool have_header, V2InferRequest& req) {
  VIGIL_RETURN_IF_ERROR(read_request_members(o, req));
  const auto* inputs = o.if_contains("inputs");
  if (!inputs || !inputs->is_array() || inputs->get_array().size() != 1) {
    return invalid_field("inputs", "must be an array with exactly one input tensor");
  }
  const json::value& input = inputs->get_array()[0];
  if (!input.is_object()) return invalid_field("inputs[0]", "must be an object");
  const json::object& in = input.get_object();
  auto dt = read_tensor_header(in, max_rows, req);
  if (!dt.ok()) return dt.status();
  if (const auto* p = in.if_contains("parameters"); p && p->is_object()) {
    if (const auto* size = p->get_object().if_contains("binary_data_size")) {
      return read_binary_data(*size, *dt, binary, have_header, req);
    }
  }
  return check_json_data(in, handler, *dt, req);
}

}  // namespace

Expected<V2InferRequest> parse_v2_infer(std::string_view body, size_t max_rows,
                                        std::optional<size_t> json_header_length) {
  std::string_view binary;
  if (json_header_length) {
    if (*json_header_length > body.size()) {
      return malformed("", "Inference-Header-Content-Length is larger than the body");
    }
    binary = body.substr(*json_header_length);
    body = body.substr(0, *json_header_length);
  }
  // The document's memory comes from a buffer each thread keeps, so a request does not
  // allocate (and page-fault) its DOM afresh; bigger documents spill to the heap.
  thread_local std::vector<unsigned char> arena(std::size_t{1} << 16);
  json::monotonic_resource mr(arena.data(), arena.size());
  json::parse_options opts;
  opts.max_depth = 32;
  V2InferRequest req;
  json::basic_parser<V2Handler> parser(opts, json::storage_ptr(&mr), req.data);
  boost::system::error_code ec;
  size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (!ec && used < body.size()) ec = json::error::extra_data;
  if (ec) return malformed("", "the body is not JSON: " + ec.message());
  json::value doc = parser.handler().release();
  if (!doc.is_object()) return malformed("", "the body must be a JSON object");
  VIGIL_RETURN_IF_ERROR(read_document(doc.get_object(), parser.handler(), max_rows, binary,
                                      json_header_length.has_value(), req));
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
