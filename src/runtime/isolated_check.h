// Checking a model file in a child process. libxgboost is a third-party parser that may crash or
// abort on hostile bytes, and a model file must never crash the server: at upload, the server
// runs `vigil __model-check <kind>` (which loads the file with the runtime, predicts and explains
// a row, and prints a one-line JSON summary), and only stores the file when the child says ok.
//
// Protocol between parent and child (model_check_main):
//   stdin:  "<metadata JSON length in bytes>\n" <metadata JSON> <model bytes until EOF>
//   stdout: one line, {"num_features":N,"row_output_shape":[...]} (exit 0) or {"error":"..."}
//           (exit 2: the runtime's reason; exit 3: the child could not run the check — bad
//           framing, unknown kind). stderr is discarded.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "runtime/runtime.h"

namespace vigil::runtime {

inline constexpr int kModelCheckOk = 0;
inline constexpr int kModelCheckRejected = 2;  // the runtime refused the file
inline constexpr int kModelCheckFailed = 3;    // the check itself could not run

struct ModelSummary {
  size_t num_features = 0;
  std::vector<int64_t> row_output_shape;
};

// Runs `exe __model-check <kind>` and maps its outcome: exit 0 → the summary; exit 2 →
// kInvalidArgument(the runtime's reason); killed by a signal, exit 1 (what ASan/UBSan reports and
// abort-like library failures end with), or still running after `timeout` (then killed) →
// kInvalidArgument("the <kind> runtime could not load this file (it crashed)" / "(it timed
// out)"); anything else (cannot spawn, exit 3 or another code, garbled output) → kInternal.
// Blocks the calling thread for at most about `timeout`. Thread-safe.
Expected<ModelSummary> check_model_isolated(const std::string& exe, std::string_view kind,
                                            std::string_view bytes, std::string_view metadata_json,
                                            std::chrono::milliseconds timeout);

// The same with any command: runs command + {kind} (e.g. {"/bin/sh", "-c", script, "sh"} in
// tests; exe variant = {exe, "__model-check"}).
Expected<ModelSummary> check_model_isolated(const std::vector<std::string>& command,
                                            std::string_view kind, std::string_view bytes,
                                            std::string_view metadata_json,
                                            std::chrono::milliseconds timeout);

// What the child runs: reads the framing above from `in`, loads the model with the runtime of
// `kind`, predicts and explains a row of missing values, writes the one-line result to `out`
// and returns the exit code (kModelCheckOk, kModelCheckRejected or kModelCheckFailed).
int model_check_main(const RuntimeRegistry& runtimes, std::string_view kind, std::istream& in,
                     std::ostream& out);
// The same on stdin/stdout.
int model_check_main(const RuntimeRegistry& runtimes, std::string_view kind);

// Message for a child that crashed or timed out.
std::string isolated_check_failure_message(std::string_view kind, bool timed_out);

}  // namespace vigil::runtime
