// Agent: the reference watchdog (`vigil agent`, docs/agent.md), written against
// docs/protocol.md. It
//  - enrolls once with a code (POST /api/v1/enroll) and keeps its identity in its state
//    directory (agent_files.h), or starts from a watchdog token it is given;
//  - holds the device WebSocket: hello with the model it runs, a ping every ping_interval, a
//    reconnect with jittered exponential back-off whenever the session ends;
//  - obeys commands (update, rollback and blank alike): reports downloading, fetches the
//    artifact with its token, checks sha256 and the Ed25519 signature, loads it and predicts a
//    probe row (activate()), switches and reports applied, and confirmed after confirm_s
//    seconds without a failed prediction; anything wrong → failed with the reason, and the old
//    model keeps running (a model that fails predictions in its confirm window is switched
//    back);
//  - scores each feature row of its input (a CSV file it follows like tail -f, or stdin) and
//    reports an alarm, resent until acknowledged, when a score reaches the model's
//    alarm_threshold. The blank model never alarms.
//
// Threads: run() holds the calling thread for the session's event loop; the agent starts one
// thread for commands (downloads and loads block) and one for the input. stop() may be called
// from any thread (a signal handler must not: run_agent() handles SIGINT and SIGTERM).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "agent/agent_files.h"
#include "core/status.h"
#include "runtime/runtime.h"

namespace vigil::agent {

struct AgentOptions {
  std::string server;                      // http[s]://host:port; default: the saved identity's
  std::filesystem::path state_dir;         // agent.json, current.json, models/
  std::string code;                        // an enrollment code, used when nothing is saved
  std::string watchdog;                    // with code: the watchdog's name (default: host name)
  std::string token;                       // or a watchdog token, used when nothing is saved
  std::string input;                       // "": none; "-": stdin; else a CSV file, followed
  std::string cacert;                      // https: trust these certificates
  std::string severity = "major";          // of the alarms it reports
  std::string agent_name = "vigil-agent";  // hello's "agent"
  std::chrono::milliseconds ping_interval{20'000};
  std::chrono::milliseconds backoff_min{500};
  std::chrono::milliseconds backoff_max{30'000};
  uint64_t max_model_bytes = 1ull << 30;
  size_t max_pending_alarms = 10'000;  // unacknowledged; more are dropped (and counted)
};

// The identity to run with: the saved one, else one from options.code (enrolled now) or
// options.token (its key fetched), then saved. kFailedPrecondition when there is none of them;
// the server's refusal (a used or expired code) as the client's Status.
Expected<Identity> obtain_identity(const AgentOptions& options);

class Agent {
 public:
  Agent(AgentOptions options, Identity identity, const runtime::RuntimeRegistry& runtimes);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Runs until stop(), or until the server refuses the token (401/403: kUnauthenticated,
  // re-enroll), or a fatal local error.
  Status run();
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// `vigil agent`: obtain_identity, then run with SIGINT/SIGTERM stopping it. Exit code 0 after
// a stop, 2 for bad options or a refused enrollment, 3 when the server refuses the token, 1
// otherwise.
int run_agent(const AgentOptions& options);

}  // namespace vigil::agent
