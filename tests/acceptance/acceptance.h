// What every acceptance test (real processes only) starts from: a temp dir, the backend's
// database (a SQLite file there, or a schema of the harness PostgreSQL), a `vigil serve` on a free
// loopback port (started, killed, restarted by the test) and an admin's API client.
#pragma once

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client/http_client.h"
#include "support/backends.h"
#include "support/child_process.h"
#include "support/ports.h"
#include "support/temp_db.h"

namespace vigil::testing {

inline constexpr const char* kAcceptanceAdminPassword = "acceptance-admin-1";

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The test's parameter names the backend: "sqlite" or "postgres", optionally with more after a
// '+' for the test to read ("postgres+rabbitmq").
class AcceptanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Starts the server with `settings` (--set key=value) and signs the admin in.
  void set_up(std::vector<std::pair<std::string, std::string>> settings = {}) {
    settings_ = std::move(settings);
    dir_ = make_temp_dir("vigil-acceptance-");
    ASSERT_FALSE(dir_.empty());
    if (backend() == "postgres") {
      pg_.set_up();
      if (::testing::Test::IsSkipped()) return;
      db_url_ = pg_.url();
    } else {
      db_url_ = "sqlite://" + (dir_ / "var/vigil.db").string();
    }
    port_ = free_loopback_port();
    ASSERT_GT(port_, 0);
    url_ = "http://127.0.0.1:" + std::to_string(port_);
    start_server();
    if (HasFatalFailure()) return;
    auto login =
        boost::json::object{{"email", "admin@localhost"}, {"password", kAcceptanceAdminPassword}};
    auto anon = client::HttpClient::create(url_);
    ASSERT_TRUE(anon.ok());
    auto answer = (*anon)->call_json(boost::beast::http::verb::post, "/api/v1/auth/login", login);
    ASSERT_TRUE(answer.ok()) << answer.status().detail();
    auto api = client::HttpClient::create(
        url_, client::ClientOptions{.token = std::string(answer->at("token").as_string())});
    ASSERT_TRUE(api.ok());
    api_ = std::move(*api);
  }

  std::string backend() const { return GetParam().substr(0, GetParam().find('+')); }

  // Stops the server, prints the tails of the logs in `logs` (names under dir_, without .err)
  // when the test failed or ACCEPTANCE_LOGS is set, and removes the temp dir.
  void tear_down(const std::vector<std::string>& logs = {}) {
    if (server_) server_->stop();
    if (HasFailure() || std::getenv("ACCEPTANCE_LOGS")) {
      if (server_) std::cerr << "--- server stderr (tail) ---\n" << tail(server_->err());
      for (const auto& name : logs) {
        std::cerr << "--- " << name << " stderr (tail) ---\n"
                  << tail(slurp(dir_ / (name + ".err")));
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static std::string tail(const std::string& s) {
    return s.size() > 20000 ? s.substr(s.size() - 20000) : s;
  }

  // The database and settings every vigil process of the test shares, as environment.
  std::vector<std::pair<std::string, std::string>> environment() const {
    return {{"VIGIL_DATABASE__URL", db_url_},
            {"VIGIL_ADMIN_PASSWORD", kAcceptanceAdminPassword},
            {"VIGIL_LOG__FORMAT", "text"}};
  }
  std::vector<std::string> set_args() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : settings_) out.insert(out.end(), {"--set", k + "=" + v});
    return out;
  }

  void start_server() {
    std::vector<std::string> args{"serve", "--port", std::to_string(port_)};
    for (auto& a : set_args()) args.push_back(a);
    server_ = std::make_unique<ChildProcess>(VIGIL_EXE, args, dir_, dir_ / "server", environment());
    ASSERT_TRUE(server_->started());
    auto probe = client::HttpClient::create(
        url_, client::ClientOptions{.connect_timeout = std::chrono::seconds(1)});
    ASSERT_TRUE(probe.ok());
    ASSERT_TRUE(eventually([&] { return (*probe)->get("/readyz").status == 200; },
                           std::chrono::seconds(30)))
        << "the server did not become ready\n"
        << server_->err();
  }

  // Polls `done` every `every` until it is true or `timeout` passes.
  static bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                         std::chrono::milliseconds every = std::chrono::milliseconds(100)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(every);
    }
    return done();
  }

  boost::json::value call(boost::beast::http::verb method, const std::string& target,
                          const boost::json::value& body = nullptr) {
    auto r = api_->call_json(method, target, body);
    EXPECT_TRUE(r.ok()) << method << " " << target << ": " << r.status().detail();
    return r.ok() ? *r : boost::json::value();
  }

  std::filesystem::path dir_;
  PostgresSchemaBackend pg_;
  std::string db_url_;
  int port_ = 0;
  std::string url_;
  std::vector<std::pair<std::string, std::string>> settings_;
  std::unique_ptr<ChildProcess> server_;
  std::unique_ptr<client::HttpClient> api_;
};

}  // namespace vigil::testing
