#include "core/config.h"

#include <toml++/toml.h>

#include <cassert>
#include <fstream>
#include <sstream>

#include "core/strings.h"

extern char** environ;

namespace vigil {
namespace {

const ConfigKeySpec* find_spec(const std::string& key) {
  for (const auto& spec : config_keys()) {
    if (spec.name == key) return &spec;
  }
  return nullptr;
}

Status validate(const ConfigKeySpec& spec, const std::string& value, const std::string& source) {
  auto bad = [&](const std::string& why) {
    return invalid_argument(source + ": " + spec.name + ": " + why);
  };
  switch (spec.type) {
    case ConfigType::kInt: {
      auto parsed = parse_int<int64_t>(value);
      if (!parsed) return bad("expected an integer, got '" + value + "'");
      int64_t v = *parsed;
      if (v < spec.min || v > spec.max) {
        return bad("must be between " + std::to_string(spec.min) + " and " +
                   std::to_string(spec.max) + ", got " + value);
      }
      return {};
    }
    case ConfigType::kBool: {
      std::string v = to_lower(value);
      if (v == "true" || v == "false" || v == "1" || v == "0" || v == "yes" || v == "no" ||
          v == "on" || v == "off") {
        return {};
      }
      return bad("expected true or false, got '" + value + "'");
    }
    case ConfigType::kString:
      if (!spec.choices.empty()) {
        for (const auto& c : spec.choices) {
          if (c == value) return {};
        }
        std::string list;
        for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
        return bad("must be one of " + list + ", got '" + value + "'");
      }
      return {};
  }
  return {};
}

// Flattens a TOML table into dotted keys; only scalars are accepted.
Status flatten_toml(const toml::table& table, const std::string& prefix, const std::string& file,
                    std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = node.as_table()) {
      VIGIL_RETURN_IF_ERROR(flatten_toml(*sub, key, file, out));
    } else if (const auto* s = node.as_string()) {
      out.emplace_back(key, s->get());
    } else if (const auto* i = node.as_integer()) {
      out.emplace_back(key, std::to_string(i->get()));
    } else if (const auto* b = node.as_boolean()) {
      out.emplace_back(key, b->get() ? "true" : "false");
    } else {
      return invalid_argument(file + ": " + key + ": unsupported value type");
    }
  }
  return {};
}

std::string mask_url_password(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto at = url.find('@', scheme + 3);
  if (at == std::string::npos) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

}  // namespace

std::string env_name_to_key(const std::string& name) {
  static const std::string kPrefix = "VIGIL_";
  if (name.rfind(kPrefix, 0) != 0 || name.rfind("VIGIL_TEST_", 0) == 0) return {};
  // The CLI's commands against a running server read these; they are no server settings.
  if (name == "VIGIL_URL" || name == "VIGIL_TOKEN" || name == "VIGIL_CACERT") return {};
  std::string rest = name.substr(kPrefix.size());
  std::string key;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '_' && i + 1 < rest.size() && rest[i + 1] == '_') {
      key += '.';
      ++i;
    } else {
      key += rest[i];
    }
  }
  return to_lower(key);
}

Expected<std::vector<std::pair<std::string, std::string>>> parse_dotenv(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  auto trim = [](std::string s) {
    size_t b = s.find_first_not_of(" \t\r");
    size_t e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  while (std::getline(in, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("export ", 0) == 0) line = trim(line.substr(7));
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) {
      return invalid_argument(".env line " + std::to_string(number) + ": expected NAME=VALUE");
    }
    std::string name = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (auto hash = value.find(" #"); hash != std::string::npos) {
      value = trim(value.substr(0, hash));
    }
    out.emplace_back(name, value);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> process_environment() {
  std::vector<std::pair<std::string, std::string>> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return out;
}

Config::Config() {
  for (const auto& spec : config_keys()) {
    entries_[spec.name] = Entry{&spec, spec.default_value, "default"};
  }
}

Status Config::set(const std::string& key, const std::string& value, const std::string& source) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return invalid_argument(source + ": unknown key '" + key + "'");
  VIGIL_RETURN_IF_ERROR(validate(*it->second.spec, value, source));
  it->second.value = value;
  it->second.source = source;
  return {};
}

Expected<Config> Config::load(const ConfigSources& sources) {
  Config config;
  // vigil.toml
  {
    std::ifstream probe(sources.toml_path);
    if (!probe) {
      if (sources.toml_required) {
        return invalid_argument("config file " + sources.toml_path + " cannot be read");
      }
    } else {
      toml::table table;
      try {
        table = toml::parse_file(sources.toml_path);
      } catch (const toml::parse_error& err) {
        return invalid_argument(sources.toml_path + ":" + std::to_string(err.source().begin.line) +
                                ": " + std::string(err.description()));
      }
      std::vector<std::pair<std::string, std::string>> values;
      VIGIL_RETURN_IF_ERROR(flatten_toml(table, "", sources.toml_path, values));
      for (const auto& [k, v] : values) VIGIL_RETURN_IF_ERROR(config.set(k, v, sources.toml_path));
    }
  }
  // .env, then the environment: both use VIGIL_SECTION__KEY names.
  auto apply_env = [&](const std::vector<std::pair<std::string, std::string>>& vars,
                       const std::string& source) -> Status {
    for (const auto& [name, value] : vars) {
      std::string key = env_name_to_key(name);
      if (key.empty()) continue;
      if (!find_spec(key)) {
        return invalid_argument(source + ": unknown setting " + name + " (key '" + key + "')");
      }
      VIGIL_RETURN_IF_ERROR(config.set(key, value, source + " " + name));
    }
    return {};
  };
  if (std::ifstream env_in(sources.env_file); env_in) {
    std::stringstream text;
    text << env_in.rdbuf();
    auto vars = parse_dotenv(text.str());
    if (!vars.ok()) return vars.status();
    VIGIL_RETURN_IF_ERROR(apply_env(*vars, sources.env_file));
  }
  VIGIL_RETURN_IF_ERROR(apply_env(sources.environment, "environment"));
  for (const auto& [k, v] : sources.flags) VIGIL_RETURN_IF_ERROR(config.set(k, v, "flag"));
  // Expand {data_dir} references.
  const std::string data_dir = config.entries_["data_dir"].value;
  for (auto& [k, e] : config.entries_) {
    for (auto pos = e.value.find("{data_dir}"); pos != std::string::npos;
         pos = e.value.find("{data_dir}")) {
      e.value.replace(pos, 10, data_dir);
    }
  }
  return config;
}

const Config::Entry& Config::entry(const std::string& key) const {
  auto it = entries_.find(key);
  assert(it != entries_.end() && "unknown config key");
  return it->second;
}

std::string Config::get_string(const std::string& key) const { return entry(key).value; }

int64_t Config::get_int(const std::string& key) const {
  const auto& e = entry(key);
  assert(e.spec->type == ConfigType::kInt);
  return parse_int<int64_t>(e.value).value_or(0);
}

bool Config::get_bool(const std::string& key) const {
  const auto& e = entry(key);
  assert(e.spec->type == ConfigType::kBool);
  std::string v = to_lower(e.value);
  return v == "true" || v == "1" || v == "yes" || v == "on";
}

std::string Config::source_of(const std::string& key) const { return entry(key).source; }

std::string Config::show() const {
  std::string out;
  for (const auto& [k, e] : entries_) {
    std::string value = e.value;
    if (e.spec->secret && !value.empty()) {
      value = value.find("://") != std::string::npos ? mask_url_password(value) : "***";
    }
    out += k + " = \"" + value + "\"  # " + e.source + "\n";
  }
  return out;
}

}  // namespace vigil
