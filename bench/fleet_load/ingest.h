// S4 (bench/README.md): telemetry ingest against Vigil. `concurrency` loops, each on a kept-alive
// connection, post one sensor's next `points` points at a time (POST /api/v1/telemetry,
// {"sensor","points":[[at,value],…]}, acknowledged only when durable) for the measured seconds.
// Loop i writes sensor `<prefix><i % sensors>`, one point a second per sensor, values a random
// walk in steps of `resolution` (0.01, 0.1, 1, …; 0: full-precision doubles).
#pragma once

#include <string>

#include "common.h"

namespace fleet_load {

struct IngestOptions {
  Target target;
  std::string token;
  std::string prefix = "s4-";
  int sensors = 8;
  int concurrency = 8;
  int points = 1000;
  double resolution = 0.01;
  double warmup_s = 2;
  double measure_s = 10;
};

// Prints one JSON line: {"scenario":"S4","requests","points","seconds","rate","p50_ms","p99_ms",
// "errors","first_error"}. Returns 0, or 1 when no request was acknowledged.
int run_ingest(const IngestOptions& o);

}  // namespace fleet_load
