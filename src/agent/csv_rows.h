// The feature rows `vigil agent` reads (a CSV file it follows, or stdin): one row per line,
// values separated by commas; an empty field is a missing value (NaN); surrounding spaces and
// double quotes around a field are dropped; blank lines and lines starting with '#' are
// skipped. A line with a field that is not a number is text: the first such line is taken as
// a header, any later one is a bad row. Pure function of its input; outside input, so it has a
// fuzz target (fuzz/agent_csv_fuzz.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil::agent {

inline constexpr size_t kMaxCsvLineBytes = 1 << 20;
inline constexpr size_t kMaxCsvFields = 100'000;

struct CsvRow {
  enum class Kind { kSkip, kValues, kText, kTooLong };
  Kind kind = Kind::kSkip;
  std::vector<float> values;  // kValues
  std::string error;          // kText: the first field that is not a number
};

CsvRow parse_csv_row(std::string_view line);

}  // namespace vigil::agent
