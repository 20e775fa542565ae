// Outside input: the file of rows `vigil task submit --rows` reads (tasks::parse_rows_text), JSON
// or CSV.
#include <boost/json.hpp>

#include <cmath>
#include <cstdint>
#include <string_view>

#include "tasks/rows_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto rows = vigil::tasks::parse_rows_text(input);
  if (!rows.ok()) return 0;
  // Every row an object whose values, from CSV, are finite numbers or null.
  for (const auto& row : *rows) {
    if (!row.is_object()) __builtin_trap();
    for (const auto& [name, value] : row.as_object()) {
      if (value.is_double() && !std::isfinite(value.as_double())) __builtin_trap();
    }
  }
  return 0;
}
