// A whole Vigil app for integration tests: a temp data dir, SQLite (or a given database URL),
// port 0, short timeouts; stopped and removed on destruction.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/app.h"
#include "support/temp_db.h"

namespace vigil::testing {

class TestApp {
 public:
  // `settings` override the defaults (dotted key → value).
  explicit TestApp(std::vector<std::pair<std::string, std::string>> settings = {},
                   bool start_now = true);
  ~TestApp();

  app::App& app() { return *app_; }
  uint16_t port() const { return app_->port(); }
  const std::filesystem::path& data_dir() const { return dir_; }
  void start();
  // A new account with this role, made directly in the store, and a token for it.
  std::pair<int64_t, std::string> account(const std::string& role);
  void stop() { app_->stop(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<app::App> app_;
};

}  // namespace vigil::testing
