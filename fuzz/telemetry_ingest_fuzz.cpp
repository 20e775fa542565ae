// Outside input: a POST /api/v1/telemetry body (telemetry::parse_ingest_json for a JSON object,
// parse_ingest_csv for CSV): whatever it parses to is named sensors with finite values.
#include <boost/json.hpp>

#include <cmath>
#include <cstdint>
#include <string_view>

#include "core/names.h"
#include "telemetry/ingest_parse.h"

namespace {
void check(const vigil::Expected<std::vector<vigil::telemetry::NamedPoints>>& r) {
  if (!r.ok()) return;
  size_t n = 0;
  for (const auto& np : *r) {
    if (!vigil::is_valid_name(np.sensor)) __builtin_trap();
    for (const auto& p : np.points) {
      if (!std::isfinite(p.value)) __builtin_trap();
      ++n;
    }
  }
  if (n > vigil::telemetry::kMaxIngestPoints) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check(vigil::telemetry::parse_ingest_csv(input));
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(input, ec);
  if (!ec && v.is_object()) check(vigil::telemetry::parse_ingest_json(v.as_object()));
  return 0;
}
