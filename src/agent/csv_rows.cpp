#include "agent/csv_rows.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace vigil::agent {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// A field as a float: empty → NaN; false when it is not a whole number in the text.
bool parse_field(std::string_view field, float& out) {
  field = trim(field);
  if (field.empty()) {
    out = std::numeric_limits<float>::quiet_NaN();
    return true;
  }
  if (field.size() > 64) return false;
  const std::string text(field);  // strtod needs a terminated string
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return false;
  if (std::isnan(v)) {  // "nan" spelled out is a missing value too
    out = std::numeric_limits<float>::quiet_NaN();
    return true;
  }
  if (std::isinf(v) || std::fabs(v) > std::numeric_limits<float>::max()) return false;
  out = static_cast<float>(v);
  return true;
}

}  // namespace

CsvRow parse_csv_row(std::string_view line) {
  CsvRow row;
  if (line.size() > kMaxCsvLineBytes) {
    row.kind = CsvRow::Kind::kTooLong;
    return row;
  }
  const std::string_view trimmed = trim(line);
  if (trimmed.empty() || trimmed.front() == '#') {
    return row;
  }
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    const std::string_view field = line.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    float v = 0;
    if (!parse_field(field, v)) {
      row.kind = CsvRow::Kind::kText;
      row.values.clear();
      row.error = "not a number: '" + std::string(trim(field).substr(0, 64)) + "'";
      return row;
    }
    if (row.values.size() >= kMaxCsvFields) {
      row.kind = CsvRow::Kind::kTooLong;
      row.values.clear();
      return row;
    }
    row.values.push_back(v);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  row.kind = CsvRow::Kind::kValues;
  return row;
}

}  // namespace vigil::agent
