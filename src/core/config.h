// Configuration: one typed table of known keys, filled in layers — defaults < vigil.toml <
// .env < environment (VIGIL_SECTION__KEY) < command-line flags. An unknown key or a bad value
// in any layer is an error naming the key and where it came from. Secrets are masked in show().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace vigil {

enum class ConfigType { kString, kInt, kBool };

struct ConfigKeySpec {
  std::string name;  // dotted: "server.port"
  ConfigType type;
  std::string default_value;  // as text; may reference {data_dir}
  std::string help;
  bool secret = false;
  int64_t min = INT64_MIN;  // kInt only
  int64_t max = INT64_MAX;
  std::vector<std::string> choices;  // kString: allowed values when not empty
};

// Every key Vigil knows. Modules add their keys here (config_keys.cpp).
const std::vector<ConfigKeySpec>& config_keys();

struct ConfigSources {
  std::string toml_path = "vigil.toml";  // read when it exists
  bool toml_required = false;            // --config FILE: missing file is an error
  std::string env_file = ".env";         // read when it exists
  std::vector<std::pair<std::string, std::string>> environment;  // NAME=VALUE pairs
  std::vector<std::pair<std::string, std::string>> flags;        // dotted key → value
};

// Environment entries of the current process, for ConfigSources::environment.
std::vector<std::pair<std::string, std::string>> process_environment();

class Config {
 public:
  // Defaults only (for tests); values can be set with set().
  Config();
  static Expected<Config> load(const ConfigSources& sources);

  // Validates and stores a value; `source` names the layer for messages and show().
  Status set(const std::string& key, const std::string& value, const std::string& source);

  // Typed getters; asking for an unknown key or the wrong type is a bug (asserts).
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::string source_of(const std::string& key) const;

  // "key = value  # source" lines, secrets as "***" when set.
  std::string show() const;

 private:
  struct Entry {
    const ConfigKeySpec* spec;
    std::string value;
    std::string source;
  };
  const Entry& entry(const std::string& key) const;
  std::map<std::string, Entry> entries_;
};

// Maps an environment variable name to a dotted key: VIGIL_SERVER__PORT → server.port,
// VIGIL_ADMIN_PASSWORD → admin_password. Empty when the name is not VIGIL_-prefixed or is
// reserved for tooling (VIGIL_TEST_*) or for the CLI as a client (VIGIL_URL, VIGIL_TOKEN,
// VIGIL_CACERT).
std::string env_name_to_key(const std::string& name);

// Parses a .env file's text: KEY=VALUE lines, '#' comments, optional `export `, single or
// double quotes around the value. Errors name the line number.
Expected<std::vector<std::pair<std::string, std::string>>> parse_dotenv(const std::string& text);

}  // namespace vigil
