// Outside input: the feature rows `vigil agent` reads from a CSV file or stdin
// (agent::parse_csv_row), line by line as the agent splits them.
#include <cmath>
#include <cstdint>
#include <string_view>

#include "agent/csv_rows.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  while (start <= input.size()) {
    size_t nl = input.find('\n', start);
    std::string_view line = input.substr(start, nl == std::string_view::npos ? nl : nl - start);
    auto row = vigil::agent::parse_csv_row(line);
    using Kind = vigil::agent::CsvRow::Kind;
    // Values only for a row of values, one per field at most, never infinite.
    if ((row.kind == Kind::kValues) == row.values.empty()) __builtin_trap();
    if (row.values.size() > line.size() + 1) __builtin_trap();
    for (float v : row.values) {
      if (std::isinf(v)) __builtin_trap();
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return 0;
}
