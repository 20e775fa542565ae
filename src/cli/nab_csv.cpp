#include "cli/nab_csv.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/strings.h"

namespace vigil::cli {
namespace {

Status bad_line(size_t line, const std::string& why) {
  return invalid_argument("line " + std::to_string(line) + ": " + why);
}

}  // namespace

Expected<std::vector<NabRow>> parse_nab_csv(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<NabRow> rows;
  bool header = false;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (trim(line).empty()) continue;
    const size_t comma = line.find(',');
    if (!header) {
      const std::string_view rest =
          comma == std::string_view::npos ? std::string_view{} : line.substr(comma + 1);
      if (comma == std::string_view::npos || !iequals(trim(line.substr(0, comma)), "timestamp") ||
          !iequals(trim(rest.substr(0, rest.find(','))), "value")) {
        return bad_line(line_no, "the header must start with timestamp,value");
      }
      header = true;
      continue;
    }
    if (comma == std::string_view::npos) return bad_line(line_no, "expected timestamp,value");
    const std::string_view ts = trim(line.substr(0, comma));
    const std::string_view value = trim(line.substr(comma + 1));
    if (value.find(',') != std::string_view::npos) return bad_line(line_no, "more than 2 fields");
    if (ts.empty()) return bad_line(line_no, "empty timestamp");
    if (ts.find('"') != std::string_view::npos) return bad_line(line_no, "quoted timestamp");
    NabRow row{std::string(ts), std::string(value), std::numeric_limits<double>::quiet_NaN()};
    if (!value.empty() && !iequals(value, "nan")) {
      std::string_view digits = value.starts_with('+') ? value.substr(1) : value;
      const auto [end, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), row.number);
      if (ec != std::errc() || end != digits.data() + digits.size() || !std::isfinite(row.number)) {
        return bad_line(line_no, "value is not a finite number");
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string write_nab_scores(const std::vector<NabRow>& rows, const std::vector<double>& scores) {
  assert(rows.size() == scores.size());
  std::string out = "timestamp,value,anomaly_score\n";
  out.reserve(out.size() + rows.size() * 40);
  char score[32];
  for (size_t i = 0; i < rows.size(); ++i) {
    std::snprintf(score, sizeof score, "%.6f", scores[i]);
    out.append(rows[i].timestamp).append(",").append(rows[i].value).append(",").append(score);
    out.push_back('\n');
  }
  return out;
}

}  // namespace vigil::cli
