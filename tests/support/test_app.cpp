#include "support/test_app.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace vigil::testing {

std::filesystem::path make_temp_dir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  char* made = mkdtemp(tmpl.data());
  return made ? std::filesystem::path(made) : std::filesystem::path();
}

TestApp::TestApp(std::vector<std::pair<std::string, std::string>> settings, bool start_now)
    : dir_(make_temp_dir()) {
  ConfigSources sources;
  sources.toml_path = (dir_ / "absent.toml").string();
  sources.env_file = (dir_ / "absent.env").string();
  sources.flags = {{"data_dir", dir_.string()},
                   {"server.port", "0"},
                   {"server.io_threads", "2"},
                   {"admin_password", "admin-password-1"},
                   {"log.file", ""},
                   {"audit.access_log", ""},
                   {"auth.password_ops_limit", "1"},
                   {"auth.password_mem_kib", "8192"}};
  for (auto& kv : settings) sources.flags.push_back(std::move(kv));
  auto config = Config::load(sources);
  if (!config.ok()) ADD_FAILURE() << config.status().to_string();
  auto created = app::App::create(*config);
  if (!created.ok()) {
    ADD_FAILURE() << created.status().to_string();
    return;
  }
  app_ = std::move(*created);
  if (start_now) start();
}

void TestApp::start() {
  Status s = app_->start();
  if (!s.ok()) ADD_FAILURE() << s.to_string();
}

TestApp::~TestApp() {
  if (app_) app_->stop();
  app_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace vigil::testing
