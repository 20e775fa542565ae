// vigil collect: the sleep-record collector alone (no HTTP), beside or instead of the one inside
// `vigil serve` (collector.enabled). Any number may watch one drop folder: each file is taken by
// exactly one (docs/decisions/0021-record-collector.md). SIGINT/SIGTERM finish the files in hand,
// then exit 0.
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

#include "app/app.h"
#include "cli/common.h"
#include "core/logging.h"
#include "records/record_service.h"
#include "store/migrations.h"

namespace vigil::cli {

namespace {

int run_collect(const Config& config) {
  sigset_t stop_signals = block_stop_signals();
  auto db = app::open_configured_database(config);
  if (!db.ok()) {
    spdlog::critical("cannot open the database: {}", db.status().to_string());
    return 1;
  }
  store::Migrator migrator(**db);
  Status current = migrator.check_not_newer();
  if (current.ok()) current = migrator.check_current();
  if (!current.ok()) {
    spdlog::critical("{} (start `vigil serve` once, or run `vigil migrate up`)", current.message());
    return 1;
  }
  MetricsRegistry metrics;
  records::RecordService service(**db, app::record_parser_options(config),
                                 records::RecordMetrics::in(metrics));
  records::Collector collector(
      app::collector_options(config),
      [&service](const std::filesystem::path& claimed, const std::string& name) {
        return service.collect(claimed, name);
      });
  if (Status s = collector.start(); !s.ok()) {
    spdlog::critical("cannot start the collector: {}", s.to_string());
    return s.code() == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  spdlog::info("vigil collect {} watching {} ({} worker(s)) into {}", collector.id(),
               collector.options().dropzone.string(), collector.options().workers,
               config.get_string("database.url"));
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received {}, finishing the files in hand", sig == SIGINT ? "SIGINT" : "SIGTERM");
  collector.stop();
  const records::CollectorStats st = collector.stats();
  spdlog::info(
      "stopped cleanly: {} stored, {} duplicate(s), {} quarantined, {} retried, {} lost "
      "to other collectors",
      st.stored, st.duplicates, st.quarantined, st.retried, st.lost_races);
  spdlog::shutdown();
  return 0;
}

}  // namespace

void add_collect_command(CLI::App& app, CommonOptions& common, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "collect",
      "Run the sleep-record collector alone: files dropped into collector.dropzone are parsed and "
      "stored (no HTTP); any number may share one folder");
  cmd->footer(
      "Give it the server's configuration (the same --data-dir, --config and "
      "VIGIL_DATABASE__URL): it stores into the same database, from collector.dropzone into "
      "collector.archive, refused files into collector.quarantine with NAME.reason beside them. "
      "Drop a file by writing it under a temporary name (.NAME, NAME.part) and renaming it, or in "
      "one open-write-close. SIGINT or SIGTERM: the files in hand finish, then it exits 0.");
  add_common_options(*cmd, common);
  cmd->callback([&common, &exit_code] {
    auto config = load_config_and_log(common, exit_code);
    if (!config) return;
    exit_code = run_collect(*config);
  });
}

}  // namespace vigil::cli
