#include "core/json_text.h"

#include <boost/json.hpp>

#include <charconv>
#include <cmath>

#include "core/logging.h"

namespace vigil {
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
