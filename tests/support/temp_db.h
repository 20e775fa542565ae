// Throwaway state for tests: temp directories, a migrated SQLite database, and a Config built
// only from given settings (no vigil.toml, .env or environment).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "store/database.h"

namespace vigil::testing {

using Settings = std::vector<std::pair<std::string, std::string>>;

// A fresh directory under the system temp dir (mkdtemp); empty path on failure.
std::filesystem::path make_temp_dir(const std::string& prefix = "vigil-test-");

// Defaults for tests: data_dir = dir, no log or access-log files, cheap Argon2 parameters;
// then `settings` on top, as flags.
Expected<Config> test_config(const std::filesystem::path& dir, const Settings& settings = {});

// A SQLite database with every migration applied, in its own temp dir; removed (with its
// -wal/-shm files) on destruction. A failure to set it up is reported with ADD_FAILURE.
class MigratedSqlite {
 public:
  MigratedSqlite();
  ~MigratedSqlite();
  MigratedSqlite(const MigratedSqlite&) = delete;
  MigratedSqlite& operator=(const MigratedSqlite&) = delete;
  bool ok() const { return db_ != nullptr; }
  store::Database* db() { return db_.get(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
};

}  // namespace vigil::testing
