#include "support/temp_db.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "store/migrations.h"

namespace vigil::testing {

std::filesystem::path make_temp_dir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  char* made = mkdtemp(tmpl.data());
  return made ? std::filesystem::path(made) : std::filesystem::path();
}

Expected<Config> test_config(const std::filesystem::path& dir, const Settings& settings) {
  ConfigSources sources;
  sources.toml_path = (dir / "absent.toml").string();
  sources.env_file = (dir / "absent.env").string();
  sources.flags = {{"data_dir", dir.string()},
                   {"log.file", ""},
                   {"audit.access_log", ""},
                   {"auth.password_ops_limit", "1"},
                   {"auth.password_mem_kib", "8192"}};
  for (const auto& kv : settings) sources.flags.push_back(kv);
  return Config::load(sources);
}

MigratedSqlite::MigratedSqlite() : dir_(make_temp_dir("vigil-db-")) {
  auto db = store::open_database({.url = "sqlite://" + (dir_ / "test.db").string()});
  if (!db.ok()) {
    ADD_FAILURE() << db.status().to_string();
    return;
  }
  auto ran = store::Migrator(**db).up();
  if (!ran.ok()) {
    ADD_FAILURE() << ran.status().to_string();
    return;
  }
  db_ = std::move(*db);
}

MigratedSqlite::~MigratedSqlite() {
  db_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace vigil::testing
