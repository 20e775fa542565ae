#include "tasks/rows_text.h"

#include "core/json_text.h"

#include <boost/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace vigil::tasks {
namespace json = boost::json;

namespace {

std::string_view trim(std::string_view s) {
  const auto a = s.find_first_not_of(" \t\r\"");
  if (a == std::string_view::npos) return {};
  const auto b = s.find_last_not_of(" \t\r\"");
  return s.substr(a, b - a + 1);
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  for (;;) {
    const size_t comma = line.find(',', pos);
    out.push_back(trim(line.substr(pos, comma == std::string_view::npos ? comma : comma - pos)));
    if (comma == std::string_view::npos) return out;
    pos = comma + 1;
  }
}

Expected<json::array> from_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = parse_json(text, ec);
  if (!ec && v.is_object() && v.as_object().contains("rows")) v = v.at("rows");
  if (ec || !v.is_array()) return invalid_argument("expected a JSON array of rows (objects)");
  for (const auto& row : v.as_array()) {
    if (!row.is_object()) return invalid_argument("every row must be a JSON object");
  }
  return std::move(v.as_array());
}

}  // namespace

Expected<json::array> parse_rows_text(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '[' || text[first] == '{')) {
    return from_json(text);
  }
  std::vector<std::string> names;
  json::array rows;
  size_t start = 0;
  for (int n = 1; start < text.size(); ++n) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    if (trim(line).empty() || trim(line).front() == '#') continue;
    auto fields = split(line);
    if (names.empty()) {
      for (auto f : fields) {
        if (f.empty()) return invalid_argument("line " + std::to_string(n) + ": an empty name");
        names.emplace_back(f);
      }
      continue;
    }
    if (fields.size() > names.size()) {
      return invalid_argument("line " + std::to_string(n) + ": more fields than the header names");
    }
    json::object row;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].empty()) {
        row[names[i]] = nullptr;
        continue;
      }
      const std::string field(fields[i]);
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(field.c_str(), &end);
      if (end != field.c_str() + field.size() || !std::isfinite(v) || errno == ERANGE) {
        return invalid_argument("line " + std::to_string(n) + ": " + field + " is not a number");
      }
      row[names[i]] = v;
    }
    rows.push_back(std::move(row));
  }
  if (names.empty()) return invalid_argument("no rows: the first line names the features");
  return rows;
}

}  // namespace vigil::tasks
