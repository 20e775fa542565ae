// Outside input: a CSV file `vigil detect --nab` reads (cli::parse_nab_csv). What parses must
// write back (write_nab_scores) into a file whose first two columns parse again to the same rows.
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/nab_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto rows = vigil::cli::parse_nab_csv(input);
  if (!rows.ok()) {
    if (rows.status().message().empty()) __builtin_trap();
    return 0;
  }
  for (const auto& r : *rows) {
    if (r.timestamp.empty() || std::isinf(r.number)) __builtin_trap();
  }
  std::vector<double> scores(rows->size(), 0.5);
  const std::string out = vigil::cli::write_nab_scores(*rows, scores);
  // Drop the third column: the scores file read as a timestamp,value file.
  std::string back;
  size_t start = 0;
  while (start < out.size()) {
    const size_t nl = out.find('\n', start);
    const std::string line = out.substr(start, nl - start);
    back += line.substr(0, line.rfind(',')) + "\n";
    start = nl + 1;
  }
  auto again = vigil::cli::parse_nab_csv(back);
  if (!again.ok() || again->size() != rows->size()) __builtin_trap();
  for (size_t i = 0; i < rows->size(); ++i) {
    const auto &a = (*rows)[i], &b = (*again)[i];
    if (a.timestamp != b.timestamp || a.value != b.value) __builtin_trap();
    if (!(a.number == b.number || (std::isnan(a.number) && std::isnan(b.number)))) __builtin_trap();
  }
  return 0;
}
