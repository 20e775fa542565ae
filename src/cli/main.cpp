// vigil: one binary, one subcommand per job. `vigil --help` and `vigil CMD --help` list them.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/common.h"
#include "cli/remote.h"
#include "core/logging.h"
#include "runtime/isolated_check.h"
#include "runtime/runtime.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using namespace vigil;
  // Until a command configures logging, log warnings to stderr (stdout carries command output).
  (void)init_logging({.level = "warn", .format = "auto", .file = ""});
  CLI::App app{"Vigil: models, fleets, predictions, telemetry and records in one service"};
  app.require_subcommand(1);
  app.set_version_flag("--version", VIGIL_VERSION);
  int exit_code = 0;
  cli::CommonOptions common;

  // serve
  auto* serve = app.add_subcommand("serve", "Run the HTTP + WebSocket API server");
  std::string host;
  int port = -1;
  serve->add_option("--host", host, "Address to listen on (server.host)");
  serve->add_option("--port", port, "TCP port, 0 for any free one (server.port)")
      ->check(CLI::Range(0, 65535));
  cli::add_common_options(*serve, common);
  serve->callback([&] {
    if (!host.empty()) common.extra_flags.emplace_back("server.host", host);
    if (port >= 0) common.extra_flags.emplace_back("server.port", std::to_string(port));
    auto config = cli::load_config(common);
    if (!config.ok()) {
      std::fprintf(stderr, "vigil: configuration error: %s\n", config.status().message().c_str());
      exit_code = 2;
      return;
    }
    if (Status s = init_logging(cli::log_options(*config, true)); !s.ok()) {
      std::fprintf(stderr, "vigil: %s\n", s.detail().c_str());
      exit_code = 1;
      return;
    }
    exit_code = cli::run_serve(*config);
  });

  // worker
  cli::add_worker_command(app, common, exit_code);
  cli::add_collect_command(app, common, exit_code);
  // migrate
  cli::add_migrate_command(app, common, exit_code);

  // user
  cli::add_user_command(app, common, exit_code);
  // model
  cli::add_model_command(app, common, exit_code);
  // device, alarm, rollout: against a running server, over HTTP
  cli::add_device_command(app, exit_code);
  cli::add_alarm_command(app, exit_code);
  cli::add_rollout_command(app, exit_code);
  cli::add_task_command(app, exit_code);
  cli::add_credits_command(app, exit_code);
  cli::add_sensor_command(app, exit_code);
  cli::add_telemetry_command(app, exit_code);
  cli::add_baseline_command(app, exit_code);
  cli::add_record_command(app, exit_code);
  cli::add_simulate_command(app, exit_code);
  // agent: the reference watchdog
  cli::add_agent_command(app, exit_code);
  // detect: offline anomaly detection (NAB's layout)
  cli::add_detect_command(app, exit_code);
  cli::add_parse_record_command(app, exit_code);

  // config show
  auto* config_cmd = app.add_subcommand("config", "Inspect the effective configuration");
  config_cmd->require_subcommand(1);
  auto* show = config_cmd->add_subcommand(
      "show", "Print every setting with its value and where it came from (secrets masked)");
  cli::add_common_options(*show, common);
  show->callback([&] {
    auto config = cli::load_config(common);
    if (!config.ok()) {
      std::fprintf(stderr, "vigil: configuration error: %s\n", config.status().message().c_str());
      exit_code = 2;
      return;
    }
    std::fputs(config->show().c_str(), stdout);
  });

  // openapi
  auto* openapi = app.add_subcommand(
      "openapi", "Print the OpenAPI 3.1 document of this binary (the one /openapi.json serves)");
  cli::add_common_options(*openapi, common);
  openapi->callback([&] {
    auto config = cli::load_config(common);
    if (!config.ok()) {
      std::fprintf(stderr, "vigil: configuration error: %s\n", config.status().message().c_str());
      exit_code = 2;
      return;
    }
    exit_code = cli::print_openapi(*config);
  });

  // __model-check KIND (hidden): the child process that checks an uploaded model file, so a
  // runtime that crashes on hostile bytes takes down only this process
  // (runtime/isolated_check.h). Reads the file from stdin, prints a one-line JSON result.
  auto* model_check = app.add_subcommand("__model-check", "Check a model file (internal)");
  model_check->group("");
  std::string model_kind;
  model_check->add_option("kind", model_kind, "Runtime kind")->required();
  model_check->callback(
      [&] { exit_code = runtime::model_check_main(*runtime::default_runtimes(), model_kind); });

  auto* version = app.add_subcommand("version", "Print the version");
  version->callback([] { std::printf("vigil %s\n", VIGIL_VERSION); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
