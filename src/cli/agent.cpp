// vigil agent: the reference watchdog (src/agent, docs/agent.md).
#include <CLI/CLI.hpp>

#include <cstdlib>

#include "agent/agent.h"
#include "cli/remote.h"
#include "core/logging.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.0.0"
#endif

namespace vigil::cli {

void add_agent_command(CLI::App& app, int& exit_code) {
  static agent::AgentOptions o;
  static std::string state_dir = "var/agent";
  static int ping_s = 20;
  static int retry_max_s = 30;
  static std::string log_level = "info";
  auto* cmd = app.add_subcommand(
      "agent",
      "Run the reference watchdog: enroll once, hold the device WebSocket, apply the models the "
      "server orders, report alarms for feature rows read from a CSV file or stdin");
  cmd->add_option("--url", o.server,
                  "The server (env VIGIL_URL; default: the one it enrolled with, else " +
                      std::string(kDefaultUrl) + ")");
  cmd->add_option("--state-dir", state_dir,
                  "Where it keeps its identity, token and models (default var/agent)");
  cmd->add_option("--code", o.code,
                  "An enrollment code (vigil device enroll DEVICE), used once when the state "
                  "directory holds no identity");
  cmd->add_option("--watchdog", o.watchdog,
                  "With --code: the watchdog's name (default: host name)");
  cmd->add_option("--token", o.token,
                  "A watchdog token to start from instead of a code (when nothing is saved)");
  cmd->add_option("--input", o.input,
                  "Feature rows to score: a CSV file, followed as it grows, or - for stdin");
  cmd->add_option("--severity", o.severity, "Severity of the alarms it reports (default major)")
      ->check(CLI::IsMember({"warning", "minor", "major", "critical"}));
  cmd->add_option("--cacert", o.cacert, "https: trust these PEM certificates (env VIGIL_CACERT)");
  cmd->add_option("--ping-s", ping_s, "Seconds between pings (default 20)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--retry-max-s", retry_max_s,
                  "Longest wait between attempts to reconnect, jittered (default 30)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--log-level", log_level, "trace, debug, info, warn or error (default info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  cmd->callback([&exit_code] {
    if (Status s = init_logging({.level = log_level, .format = "auto", .file = ""}); !s.ok()) {
      std::fprintf(stderr, "vigil: %s\n", s.detail().c_str());
      exit_code = 2;
      return;
    }
    agent::AgentOptions options = o;
    options.state_dir = state_dir;
    options.ping_interval = std::chrono::seconds(ping_s);
    options.backoff_max = std::chrono::seconds(retry_max_s);
    options.agent_name = std::string("vigil-agent/") + VIGIL_VERSION;
    auto env = [](const char* name) {
      const char* v = std::getenv(name);
      return v ? std::string(v) : std::string();
    };
    if (options.server.empty()) options.server = env("VIGIL_URL");
    if (options.cacert.empty()) options.cacert = env("VIGIL_CACERT");
    if (options.server.empty() && !options.code.empty()) options.server = kDefaultUrl;
    if (options.server.empty() && !options.token.empty()) options.server = kDefaultUrl;
    exit_code = agent::run_agent(options);
  });
}

}  // namespace vigil::cli
