// Reading telemetry as it is posted (API.md "Telemetry"): the JSON shapes
//   {"points": [{"sensor": "s1", "at": <time>, "value": 1.5}, ...]}
//   {"sensor": "s1", "points": [[<time>, 1.5], ...]}
// and CSV lines `sensor,at,value` (a first line `sensor,at,value` is a header). A time is RFC 3339
// or Unix epoch milliseconds (an integer; in CSV, digits). Values are finite numbers.
//
// Pure functions, thread-safe. Errors: kInvalidArgument naming the first bad field
// ("points[3].value", "line 7") — the whole batch is refused, nothing is half taken;
// kResourceExhausted above kMaxIngestPoints points.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "telemetry/series_codec.h"

namespace vigil::telemetry {

inline constexpr size_t kMaxIngestPoints = 100'000;

struct NamedPoints {
  std::string sensor;
  std::vector<Point> points;
};

// Points grouped by sensor name as given (one entry per distinct spelling, in first-seen order).
Expected<std::vector<NamedPoints>> parse_ingest_json(const boost::json::object& body);
Expected<std::vector<NamedPoints>> parse_ingest_csv(std::string_view text);

// A time as the API takes it: RFC 3339 text, or epoch milliseconds. nullopt when it is neither.
std::optional<int64_t> parse_time_ms(std::string_view text);

}  // namespace vigil::telemetry
