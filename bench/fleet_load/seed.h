// The setup of S7 and S8: N devices, each with an enrolled watchdog, made through the public
// API as an admin and an agent would (POST /api/v1/devices, POST …/enrollments, POST
// /api/v1/enroll), over `connections` kept-alive connections at once. Writes the tokens file.
#pragma once

#include <string>

#include "common.h"

namespace fleet_load {

struct SeedOptions {
  Target target;
  std::string admin_token;
  std::string prefix =
      "bench";  // devices <prefix>-<i>, watchdogs <prefix>-w<i>, label bench=<prefix>
  size_t count = 0;
  size_t first = 0;  // i runs from first to first + count - 1
  size_t connections = 16;
  std::string out;  // the tokens file
};

// Prints one JSON line (seeded, errors, seconds, requests/s, signing_key); 0 when every device
// was made.
int run_seed(const SeedOptions& options);

}  // namespace fleet_load
