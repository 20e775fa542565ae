#include "cli/common.h"

#include <pthread.h>

#include <csignal>
#include <cstdio>

#include "app/app.h"
#include "store/migrations.h"

namespace vigil::cli {

void add_common_options(CLI::App& cmd, CommonOptions& options) {
  cmd.add_option("--config", options.config_file,
                 "Configuration file (default: ./vigil.toml if present)");
  cmd.add_option("--data-dir", options.data_dir, "Data directory (default: var)");
  cmd.add_option("--set", options.sets, "Override a setting: --set server.port=9000 (repeatable)");
}

std::optional<Config> load_config_and_log(const CommonOptions& options, int& exit_code) {
  auto config = load_config(options);
  if (!config.ok()) {
    std::fprintf(stderr, "vigil: configuration error: %s\n", config.status().message().c_str());
    exit_code = 2;
    return std::nullopt;
  }
  if (Status s = init_logging(log_options(*config, true)); !s.ok()) {
    std::fprintf(stderr, "vigil: %s\n", s.detail().c_str());
    exit_code = 1;
    return std::nullopt;
  }
  return std::move(*config);
}

Expected<Config> load_config(const CommonOptions& options) {
  ConfigSources sources;
  if (!options.config_file.empty()) {
    sources.toml_path = options.config_file;
    sources.toml_required = true;
  }
  sources.environment = process_environment();
  if (!options.data_dir.empty()) sources.flags.emplace_back("data_dir", options.data_dir);
  for (const auto& kv : options.extra_flags) sources.flags.push_back(kv);
  for (const auto& s : options.sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      return invalid_argument("--set expects key=value, got '" + s + "'");
    }
    sources.flags.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  return Config::load(sources);
}

// Opens the configured store with a current schema; prints why not otherwise.
std::unique_ptr<store::Database> open_store(const CommonOptions& common, int& exit_code,
                                            Config& config_out) {
  auto config = load_config(common);
  if (!config.ok()) {
    std::fprintf(stderr, "vigil: configuration error: %s\n", config.status().message().c_str());
    exit_code = 2;
    return nullptr;
  }
  config_out = *config;
  auto db = app::open_configured_database(*config);
  if (!db.ok()) {
    std::fprintf(stderr, "vigil: %s\n", db.status().to_string().c_str());
    exit_code = 1;
    return nullptr;
  }
  store::Migrator migrator(**db);
  if (Status s = migrator.check_current(); !s.ok()) {
    std::fprintf(stderr, "vigil: %s (run `vigil migrate up`)\n", s.message().c_str());
    exit_code = 1;
    return nullptr;
  }
  return std::move(*db);
}

int fail(const Status& s) {
  std::fprintf(stderr, "vigil: %s\n", s.detail().c_str());
  return s.code() == ErrorCode::kInvalidArgument || s.code() == ErrorCode::kMalformed ? 2 : 1;
}

LogOptions log_options(const Config& config, bool with_file) {
  LogOptions o;
  o.level = config.get_string("log.level");
  o.format = config.get_string("log.format");
  if (with_file) o.file = config.get_string("log.file");
  o.max_file_mb = static_cast<int>(config.get_int("log.max_file_mb"));
  o.max_files = static_cast<int>(config.get_int("log.max_files"));
  return o;
}

sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return stop_signals;
}

}  // namespace vigil::cli
