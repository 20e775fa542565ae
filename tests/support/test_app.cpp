#include "support/test_app.h"

#include <gtest/gtest.h>

#include <atomic>

#include <boost/json/serialize.hpp>

#include "auth/token_service.h"
#include "auth/user_store.h"
#include "support/pg_server.h"

namespace vigil::testing {

TestApp::TestApp(std::vector<std::pair<std::string, std::string>> settings, bool start_now,
                 app::AppOptions options)
    : dir_(make_temp_dir()) {
  Settings all = {
      {"server.port", "0"}, {"server.io_threads", "2"}, {"admin_password", "admin-password-1"}};
#ifdef VIGIL_EXE
  // Uploads are checked by `vigil __model-check` in a child process; this binary is not vigil.
  all.emplace_back("models.check_exe", VIGIL_EXE);
#endif
  for (auto& kv : settings) all.push_back(std::move(kv));
  auto config = test_config(dir_, all);
  if (!config.ok()) {
    ADD_FAILURE() << config.status().to_string();
    return;
  }
  auto created = app::App::create(*config, options);
  if (!created.ok()) {
    ADD_FAILURE() << created.status().to_string();
    return;
  }
  app_ = std::move(*created);
  if (start_now) start();
}

std::pair<int64_t, std::string> TestApp::account(const std::string& role) {
  static std::atomic<int> n{0};
  auto user =
      app_->users().create(role + std::to_string(++n) + "@example.com", "password-123", "", role);
  EXPECT_TRUE(user.ok()) << user.status().to_string();
  if (!user.ok()) return {0, ""};
  auto issued = app_->tokens().issue(*user);
  EXPECT_TRUE(issued.ok());
  return {user->id, issued.ok() ? issued->token : ""};
}

void BackendAppTest::start_app(std::vector<std::pair<std::string, std::string>> settings,
                               const std::string& db_prefix) {
  if (GetParam() == "postgres") {
    VIGIL_PG_SERVER_OR_SKIP(pg);
    std::string error, url = fresh_database_url(*pg, db_prefix, &error);
    ASSERT_FALSE(url.empty()) << error;
    settings.emplace_back("database.url", url);
  }
  app_ = std::make_unique<TestApp>(std::move(settings), /*start_now=*/true);
  client_ = std::make_unique<HttpClient>(app_->port());
}

std::set<std::string> BackendAppTest::error_fields(const HttpResult& r) {
  std::set<std::string> out;
  const boost::json::value v = r.json();
  if (!v.is_object() || !v.as_object().contains("errors")) return out;
  for (const auto& e : v.at("errors").as_array()) out.emplace(e.at("field").as_string());
  return out;
}

HttpResult BackendAppTest::send(boost::beast::http::verb method, const std::string& path,
                                const boost::json::value& body, Headers headers) {
  headers.emplace("Content-Type", "application/json");
  return client_->request(method, path, boost::json::serialize(body), headers);
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
