// Options every subcommand shares (--config, --data-dir, --set) and loading the configuration
// from them.
#pragma once

#include <CLI/CLI.hpp>

#include <csignal>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/logging.h"
#include "store/database.h"

namespace vigil::cli {

struct CommonOptions {
  std::string config_file;  // --config: a vigil.toml that must exist
  std::string data_dir;
  std::vector<std::string> sets;                                 // key=value
  std::vector<std::pair<std::string, std::string>> extra_flags;  // from subcommand flags
};

void add_common_options(CLI::App& cmd, CommonOptions& options);
// Loads defaults < vigil.toml < .env < environment < flags; prints the error and returns
// nullopt when the configuration is invalid.
Expected<Config> load_config(const CommonOptions& options);

// Opens the configured store with a current schema; prints why not and sets exit_code
// otherwise (returns nullptr).
std::unique_ptr<store::Database> open_store(const CommonOptions& common, int& exit_code,
                                            Config& config_out);
// Prints the status and returns the exit code for it (2 for invalid input, else 1).
int fail(const Status& s);
// Blocks SIGINT and SIGTERM (call before any thread starts, so they all inherit the mask and the
// main thread alone receives them through sigwait on the returned set) and ignores SIGPIPE.
sigset_t block_stop_signals();

// Logging as the configuration says (log.*); `with_file`: also to log.file.
LogOptions log_options(const Config& config, bool with_file);
// For a long-running command: the configuration, with logging started (to log.file too).
// nullopt when either fails: printed, exit_code set (2 for a bad configuration, 1 otherwise).
std::optional<Config> load_config_and_log(const CommonOptions& options, int& exit_code);

int run_serve(const Config& config);
int print_openapi(const Config& config);
void add_migrate_command(CLI::App& app, CommonOptions& common, int& exit_code);
void add_user_command(CLI::App& app, CommonOptions& common, int& exit_code);
void add_model_command(CLI::App& app, CommonOptions& common, int& exit_code);
void add_worker_command(CLI::App& app, CommonOptions& common, int& exit_code);
void add_collect_command(CLI::App& app, CommonOptions& common, int& exit_code);
// detect --nab DATA_DIR --out OUT_DIR (detect.cpp): needs no configuration or store.
void add_detect_command(CLI::App& app, int& exit_code);
void add_parse_record_command(CLI::App& app, int& exit_code);

}  // namespace vigil::cli
