// A whole Vigil app for integration tests: a temp data dir, SQLite (or a given database URL),
// port 0, short timeouts; stopped and removed on destruction.
#pragma once

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "app/app.h"
#include "support/http_client.h"
#include "support/temp_db.h"

namespace vigil::testing {

class TestApp {
 public:
  // `settings` override the defaults (dotted key → value).
  // `options`: what the binary would bring (the console's files).
  explicit TestApp(std::vector<std::pair<std::string, std::string>> settings = {},
                   bool start_now = true, app::AppOptions options = {});
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

// Integration suites run on each backend: TEST_P with the parameter "sqlite" or "postgres".
class BackendAppTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Starts app_ and client_ on the parameter's backend with these settings; on "postgres" a
  // fresh database <db_prefix>_… on the shared test server, or the test is skipped when there
  // is none. Callers return from SetUp when IsSkipped() or HasFatalFailure().
  void start_app(std::vector<std::pair<std::string, std::string>> settings,
                 const std::string& db_prefix);

  using Headers = std::map<std::string, std::string>;
  static Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
  // The fields a problem response's "errors" name (a 422's).
  static std::set<std::string> error_fields(const HttpResult& r);
  // `body` as application/json on client_, with these headers.
  HttpResult send(boost::beast::http::verb method, const std::string& path,
                  const boost::json::value& body, Headers headers);

  std::unique_ptr<TestApp> app_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace vigil::testing
