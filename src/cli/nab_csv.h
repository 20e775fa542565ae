// The CSV files of `vigil detect --nab` (NAB's layout): a header `timestamp,value`, then one
// `timestamp,value` row per line. Outside input: parse_nab_csv never trusts it (fuzz target
// fuzz/nab_csv_fuzz.cpp) and says which line is wrong.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::cli {

struct NabRow {
  std::string timestamp;  // as written (trimmed of spaces), not empty
  std::string value;      // as written, echoed in the output
  double number = 0;      // the value; NaN for an empty value or "nan"
};

// Rules: lines end with \n or \r\n; blank lines are skipped; the first non-blank line is the
// header, whose first two fields must be `timestamp` and `value` (any case); every other line
// has exactly two fields, a non-empty timestamp without a quote and a decimal number (empty or
// nan: missing). A UTF-8 byte order mark before the header is skipped. kInvalidArgument, naming
// the line, for anything else; no row at all is fine.
Expected<std::vector<NabRow>> parse_nab_csv(std::string_view text);

// `timestamp,value,anomaly_score` with one line per row (scores written with 6 decimals, as
// NAB's detectors round them); rows.size() must equal scores.size().
std::string write_nab_scores(const std::vector<NabRow>& rows, const std::vector<double>& scores);

}  // namespace vigil::cli
