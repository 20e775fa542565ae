#include "core/json_text.h"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include <charconv>
#include <cmath>

#include "core/logging.h"

namespace vigil {

namespace {

// boost's own parser's handler (detail::handler in Boost.JSON 1.81), except for doubles.
struct ExactHandler {
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();
  using error_code = boost::system::error_code;
  using string_view = boost::json::string_view;

  boost::json::value_stack st;
  std::string number;  // the parts of a number before its last

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(std::size_t n, error_code&) {
    st.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(string_view s, error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, string_view, error_code&) {
    number.clear();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, string_view, error_code&) {
    number.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, string_view s, error_code&) {
    number.append(s.data(), s.size());
    double exact = 0;
    const char* end = number.data() + number.size();
    auto [p, e] = std::from_chars(number.data(), end, exact);
    st.push_double(e == std::errc() && p == end ? exact : d);
    number.clear();
    return true;
  }
  bool on_bool(bool b, error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }
};

}  // namespace

boost::json::value parse_json(std::string_view text, boost::system::error_code& ec,
                              const boost::json::parse_options& options) {
  boost::json::basic_parser<ExactHandler> p(options);
  p.handler().st.reset();
  const std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && n < text.size()) ec = boost::json::error::extra_data;
  if (ec) return nullptr;
  return p.handler().st.release();
}

boost::json::value parse_json(std::string_view text, std::error_code& ec,
                              const boost::json::parse_options& options) {
  boost::system::error_code error;
  boost::json::value v = parse_json(text, error, options);
  ec = error;
  return v;
}

namespace json = boost::json;

namespace {

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  std::string_view text(buf, static_cast<size_t>(end - buf));
  out += text;
  // A whole double stays a double when read back ("2.0", not "2"), as boost writes it ("2E0").
  if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
}

// Written in place, without a string per member: lists of thousands of items go through here.
void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  append_json_escaped(out, s);
  out += '"';
}

template <class Int>
void append_int(std::string& out, Int i) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, end);
}

}  // namespace

void append_json_text(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_: append_double(out, v.get_double()); return;
    case json::kind::int64: append_int(out, v.get_int64()); return;
    case json::kind::uint64: append_int(out, v.get_uint64()); return;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case json::kind::null: out += "null"; return;
    case json::kind::string: append_quoted(out, v.get_string()); return;
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, x] : v.get_object()) {
        if (!first) out += ',';
        first = false;
        append_quoted(out, k);
        out += ':';
        append_json_text(out, x);
      }
      out += '}';
      return;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& x : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_json_text(out, x);
      }
      out += ']';
      return;
    }
  }
}

void append_json_float(std::string& out, float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

std::string json_text(const json::value& v) {
  std::string out;
  append_json_text(out, v);
  return out;
}

}  // namespace vigil
