// vigil worker: runs asynchronous prediction tasks from the shared store, beside or instead of
// the workers inside `vigil serve` (tasks.workers). SIGINT/SIGTERM finish the running tasks, then
// exit 0.
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

#include "app/worker_app.h"
#include "cli/common.h"
#include "core/logging.h"

namespace vigil::cli {

namespace {

int run_worker(const Config& config, int concurrency) {
  sigset_t stop_signals = block_stop_signals();
  auto worker = app::WorkerApp::create(config, concurrency);
  if (!worker.ok()) {
    spdlog::critical("cannot start: {}", worker.status().to_string());
    return worker.status().code() == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  (*worker)->start();
  spdlog::info("vigil worker running {} task thread(s) on {}", concurrency,
               config.get_string("database.url"));
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received {}, finishing the running tasks", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*worker)->stop();
  spdlog::info("stopped cleanly after {} task(s)", (*worker)->finished());
  spdlog::shutdown();
  return 0;
}

}  // namespace

void add_worker_command(CLI::App& app, CommonOptions& common, int& exit_code) {
  static int concurrency = 2;
  auto* cmd = app.add_subcommand(
      "worker",
      "Run asynchronous prediction tasks from the shared store or queue (no HTTP); any number may "
      "run");
  cmd->footer(
      "Give it the server's configuration (the same --data-dir, --config, VIGIL_DATABASE__URL and "
      "VIGIL_QUEUE__URL): it takes tasks from the same database, or from the same RabbitMQ queue "
      "when queue.url is amqp://. A task whose worker dies is run again by another: once its lease "
      "(tasks.lease_s) runs out on the embedded queue, at once on RabbitMQ. SIGINT or SIGTERM: the "
      "running tasks finish, then it exits 0.");
  cmd->add_option("--concurrency", concurrency, "Tasks run at once (threads), 1-256")
      ->check(CLI::Range(1, 256));
  add_common_options(*cmd, common);
  cmd->callback([&common, &exit_code] {
    auto config = load_config_and_log(common, exit_code);
    if (!config) return;
    exit_code = run_worker(*config, concurrency);
  });
}

}  // namespace vigil::cli
