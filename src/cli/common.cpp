#include "cli/common.h"

namespace vigil::cli {

void add_common_options(CLI::App& cmd, CommonOptions& options) {
  cmd.add_option("--config", options.config_file,
                 "Configuration file (default: ./vigil.toml if present)");
  cmd.add_option("--data-dir", options.data_dir, "Data directory (default: var)");
  cmd.add_option("--set", options.sets, "Override a setting: --set server.port=9000 (repeatable)");
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

}  // namespace vigil::cli
