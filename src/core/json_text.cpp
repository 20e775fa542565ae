#include "core/json_text.h"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>

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

}  // namespace

void append_json_text(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_: append_double(out, v.get_double()); return;
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, x] : v.get_object()) {
        if (!first) out += ',';
        first = false;
        out += json::serialize(json::string_view(k));
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
    default: out += json::serialize(v); return;
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
