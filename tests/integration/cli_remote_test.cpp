// The real `vigil` binary's device, alarm and rollout commands against a running server (a
// TestApp): tables and --json, errors with the problem's detail and exit 2 for input the server
// refused, 1 when there is no server; --url/--token from flags or VIGIL_URL/VIGIL_TOKEN.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/wait.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "support/http_client.h"
#include "support/test_app.h"

namespace vigil {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class CliRemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = std::make_unique<testing::TestApp>();
    client_ = std::make_unique<testing::HttpClient>(app_->port());
    auto [admin_id, admin] = app_->account("admin");
    admin_id_ = admin_id;
    admin_ = admin;
    user_ = app_->account("user").second;
    url_ = "http://127.0.0.1:" + std::to_string(app_->port());
    dir_ = testing::make_temp_dir("vigil-cli-");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // vigil ARGS with VIGIL_URL and VIGIL_TOKEN set (the token of `token`, none when empty).
  CliRun vigil(const std::vector<std::string>& args, const std::string& token) {
    std::string cmd =
        "env -u VIGIL_URL -u VIGIL_TOKEN -u VIGIL_CACERT VIGIL_URL=" + shell_quoted(url_);
    if (!token.empty()) cmd += " VIGIL_TOKEN=" + shell_quoted(token);
    cmd += " " + shell_quoted(VIGIL_EXE);
    for (const auto& a : args) cmd += " " + shell_quoted(a);
    cmd += " >" + shell_quoted((dir_ / "out").string()) + " 2>" +
           shell_quoted((dir_ / "err").string());
    int status = std::system(cmd.c_str());
    CliRun r{.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1,
             .out = slurp(dir_ / "out"),
             .err = slurp(dir_ / "err")};
    return r;
  }
  testing::HttpResult post(const std::string& path, const json::value& body,
                           const std::string& token) {
    return client_->request(
        http::verb::post, path, json::serialize(body),
        {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
  }
  // Versions 1 and 2 of the linear model "m", stored; devices d1, d2 (site=north) and d3
  // (site=south), made with the CLI. No agent connects: a rollout to them stays running.
  void rollout_fixture() {
    for (const char* weights : {"[1,2]", "[3,4]"}) {
      auto r = client_->request(
          http::verb::post, "/api/v1/models/m/versions?kind=linear",
          std::string(R"({"weights":)") + weights + R"(,"bias":0.5})",
          {{"Authorization", "Bearer " + admin_}, {"Content-Type", "application/octet-stream"}});
      ASSERT_EQ(r.status, 201) << r.body;
    }
    for (const char* d : {"d1", "d2"}) {
      ASSERT_EQ(vigil({"device", "add", d, "--label", "site=north"}, admin_).exit_code, 0);
    }
    ASSERT_EQ(vigil({"device", "add", "d3", "--label", "site=south"}, admin_).exit_code, 0);
  }
  json::value rollout(int64_t id) {
    auto r = client_->get("/api/v1/rollouts/" + std::to_string(id),
                          {{"Authorization", "Bearer " + admin_}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.json() : json::value();
  }
  // A watchdog of `device`, enrolled with a code the CLI printed; its token.
  std::string enroll(const std::string& device, const std::string& name) {
    CliRun r = vigil({"device", "enroll", device, "--json"}, admin_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json::value code = json::parse(r.out);
    auto e = client_->request(
        http::verb::post, "/api/v1/enroll",
        json::serialize(json::object{{"code", code.at("code")}, {"watchdog", name}}),
        {{"Content-Type", "application/json"}});
    EXPECT_EQ(e.status, 201) << e.body;
    return e.status == 201 ? std::string(e.json().at("token").as_string()) : "";
  }

  std::unique_ptr<testing::TestApp> app_;
  std::unique_ptr<testing::HttpClient> client_;
  int64_t admin_id_ = 0;
  std::string admin_, user_, url_;
  std::filesystem::path dir_;
};

TEST_F(CliRemoteTest, DeviceAddListAndShow) {
  CliRun r = vigil(
      {"device", "add", "cam-1", "--type", "camera", "--label", "site=north", "--label", "floor=2"},
      admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("added device cam-1"), std::string::npos) << r.out;
  ASSERT_EQ(vigil({"device", "add", "probe"}, admin_).exit_code, 0);
  auto got = client_->get("/api/v1/devices/cam-1", {{"Authorization", "Bearer " + admin_}});
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json().at("labels").at("floor"), "2");

  r = vigil({"device", "list"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("NAME", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("cam-1"), std::string::npos);
  EXPECT_NE(r.out.find("floor=2,site=north"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("probe"), std::string::npos);
  r = vigil({"device", "list", "--label", "site=north", "--type", "camera"}, user_);
  EXPECT_NE(r.out.find("cam-1"), std::string::npos);
  EXPECT_EQ(r.out.find("probe"), std::string::npos) << r.out;
  r = vigil({"device", "list", "--limit", "1", "--json"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value page = json::parse(r.out);
  EXPECT_EQ(page.at("items").as_array().size(), 1u);
  ASSERT_TRUE(page.at("next_cursor").is_string());
  r = vigil({"device", "list", "--limit", "1"}, user_);
  EXPECT_NE(r.err.find("--cursor " + std::string(page.at("next_cursor").as_string())),
            std::string::npos)
      << r.err;

  r = vigil({"device", "show", "CAM-1"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("type:            camera"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("watchdogs:       -"), std::string::npos) << r.out;
  EXPECT_EQ(json::parse(vigil({"device", "show", "cam-1", "--json"}, user_).out).at("name"),
            "cam-1");
}

TEST_F(CliRemoteTest, RefusedInputExitsTwoWithTheProblemsDetail) {
  ASSERT_EQ(vigil({"device", "add", "cam-1"}, admin_).exit_code, 0);
  CliRun r = vigil({"device", "add", "CAM-1"}, admin_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("exists"), std::string::npos) << r.err;
  r = vigil({"device", "add", "bad name"}, admin_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("name"), std::string::npos) << r.err;
  r = vigil({"device", "add", "x", "--label", "novalue"}, admin_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("KEY=VALUE"), std::string::npos) << r.err;
  EXPECT_EQ(vigil({"device", "add", "x"}, user_).exit_code, 2);  // 403
  r = vigil({"device", "show", "nope"}, user_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
  r = vigil({"device", "list"}, "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("VIGIL_TOKEN"), std::string::npos) << r.err;
  // No server there: 1, and why.
  r = vigil({"device", "list", "--url", "http://127.0.0.1:1"}, user_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
  r = vigil({"device", "list", "--url", "ftp://x"}, user_);
  EXPECT_EQ(r.exit_code, 2);
}

// The code `device enroll` prints is one an agent can redeem.
TEST_F(CliRemoteTest, DeviceEnrollPrintsACodeAndItsExpiry) {
  ASSERT_EQ(vigil({"device", "add", "cam-1"}, admin_).exit_code, 0);
  CliRun r = vigil({"device", "enroll", "cam-1", "--expires-in", "3600"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto at = r.out.find("code:");
  ASSERT_NE(at, std::string::npos) << r.out;
  std::string code = r.out.substr(at + 5);
  code = code.substr(code.find_first_not_of(' '), 16);
  EXPECT_NE(r.out.find("expires at:"), std::string::npos) << r.out;
  auto e = client_->request(http::verb::post, "/api/v1/enroll",
                            json::serialize(json::object{{"code", code}, {"watchdog", "wd"}}),
                            {{"Content-Type", "application/json"}});
  EXPECT_EQ(e.status, 201) << code << " " << e.body;
  EXPECT_NE(enroll("cam-1", "wd-2"), "");
  r = vigil({"device", "show", "cam-1"}, user_);
  EXPECT_NE(r.out.find("watchdogs:       wd, wd-2"), std::string::npos) << r.out;
  EXPECT_EQ(vigil({"device", "enroll", "nope"}, admin_).exit_code, 2);
  EXPECT_EQ(vigil({"device", "enroll", "cam-1"}, user_).exit_code, 2);
}

TEST_F(CliRemoteTest, AlarmListAckAndClear) {
  ASSERT_EQ(vigil({"device", "add", "cam-1"}, admin_).exit_code, 0);
  const std::string watchdog = enroll("cam-1", "wd");
  auto minor = post("/api/v1/alarms", {{"severity", "minor"}, {"sensor", "temp"}}, watchdog);
  ASSERT_EQ(minor.status, 201) << minor.body;
  auto critical =
      post("/api/v1/alarms",
           {{"severity", "critical"}, {"model", {{"name", "leak"}, {"version", 3}}}}, watchdog);
  ASSERT_EQ(critical.status, 201) << critical.body;
  const std::string minor_id = std::to_string(minor.json().at("id").as_int64());
  const std::string critical_id = std::to_string(critical.json().at("id").as_int64());

  CliRun r = vigil({"alarm", "list"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("ID", 0), 0u) << r.out;
  EXPECT_LT(r.out.find("critical"), r.out.find("minor")) << r.out;  // newest first
  EXPECT_NE(r.out.find("leak:3"), std::string::npos) << r.out;
  r = vigil({"alarm", "list", "--severity", "minor", "--json"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value page = json::parse(r.out);
  ASSERT_EQ(page.at("items").as_array().size(), 1u);
  EXPECT_EQ(page.at("items").at(0).at("sensor"), "temp");
  r = vigil({"alarm", "list", "--state", "open"}, user_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("state: must be active, acknowledged or cleared"), std::string::npos)
      << r.err;

  r = vigil({"alarm", "ack", minor_id}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("acknowledged alarm " + minor_id), std::string::npos) << r.out;
  EXPECT_EQ(vigil({"alarm", "ack", critical_id}, user_).exit_code, 2);  // 403
  r = vigil({"alarm", "clear", minor_id, "--json"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value cleared = json::parse(r.out);
  EXPECT_EQ(cleared.at("state"), "cleared");
  EXPECT_EQ(cleared.at("cleared_by"), admin_id_);
  EXPECT_EQ(cleared.at("ack_by"), admin_id_);
  r = vigil({"alarm", "clear", minor_id}, admin_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cleared"), std::string::npos) << r.err;
  EXPECT_EQ(vigil({"alarm", "ack", "999999"}, admin_).exit_code, 2);
  r = vigil({"alarm", "list", "--state", "active"}, user_);
  EXPECT_NE(r.out.find(critical_id + " "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("minor"), std::string::npos) << r.out;
}

// start by device names, labels and model version; list, show (history: who and why), devices;
// pause, resume and abort with reasons.
TEST_F(CliRemoteTest, RolloutStartListShowDevicesPauseResumeAbort) {
  rollout_fixture();
  // --dry-run says what it would cover and starts nothing.
  CliRun dry =
      vigil({"rollout", "start", "--device", "d1", "--device", "d2", "--to-model", "m",
             "--to-version", "2", "--canary-percent", "50", "--batch-size", "1", "--dry-run"},
            admin_);
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(dry.out,
            "would select 2 devices (0 online); 0 would be skipped (already on the target, or "
            "nothing to roll back to)\nwaves (canary first): 1, 1\nfirst: d1,d2\n");
  EXPECT_EQ(client_->get("/api/v1/rollouts", {{"Authorization", "Bearer " + admin_}})
                .json()
                .at("items")
                .as_array()
                .size(),
            0u);
  CliRun r = vigil(
      {"rollout", "start", "--device", "d1", "--device", "d2", "--to-model", "m", "--to-version",
       "2", "--canary-percent", "50", "--batch-size", "1", "--confirm-s", "0"},
      admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("started rollout ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(": update to m:2 of 2 devices (devices d1,d2); state running"),
            std::string::npos)
      << r.out;
  const int64_t by_name = std::stoll(r.out.substr(std::string("started rollout ").size()));
  // What was given was sent; the rest are the server's defaults.
  json::value first = rollout(by_name);
  EXPECT_EQ(first.at("select"), (json::value{{"devices", {"d1", "d2"}}}));
  EXPECT_EQ(first.at("target"), (json::value{{"model", "m"}, {"version", 2}}));
  EXPECT_EQ(first.at("canary_percent"), 50);
  EXPECT_EQ(first.at("batch_size"), 1);
  EXPECT_EQ(first.at("confirm_s"), 0);
  EXPECT_EQ(first.at("max_failure_percent"), 5);
  EXPECT_EQ(first.at("auto_rollback"), false);

  r = vigil({"rollout", "start", "--label", "site=north", "--action", "blank", "--auto-rollback",
             "--rate-per-minute", "30", "--json"},
            admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value by_label = json::parse(r.out);
  EXPECT_EQ(by_label.at("select"), (json::value{{"labels", {{"site", "north"}}}}));
  EXPECT_EQ(by_label.at("action"), "blank");
  EXPECT_TRUE(by_label.at("target").is_null());
  EXPECT_EQ(by_label.at("auto_rollback"), true);
  EXPECT_EQ(by_label.at("rate_per_minute"), 30);
  EXPECT_EQ(by_label.at("canary_percent"), 10);
  EXPECT_EQ(by_label.at("counts").at("pending"), 2);

  ASSERT_EQ(
      client_
          ->request(http::verb::put, "/api/v1/devices/d3/model",
                    json::serialize(json::object{{"model", "m"}, {"version", 1}}),
                    {{"Authorization", "Bearer " + admin_}, {"Content-Type", "application/json"}})
          .status,
      200);
  r = vigil({"rollout", "start", "--select-model", "m", "--select-version", "1", "--to-model", "m",
             "--to-version", "2"},
            admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("update to m:2 of 1 devices (model m:1)"), std::string::npos) << r.out;

  r = vigil({"rollout", "list"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("ID", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("labels site=north"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DONE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" 0/1 "), std::string::npos) << r.out;  // none of its 1 device confirmed
  EXPECT_LT(r.out.find("model m:1"), r.out.find("devices d1,d2")) << r.out;  // newest first
  r = vigil({"rollout", "list", "--state", "completed"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("running"), std::string::npos) << r.out;
  r = vigil({"rollout", "list", "--limit", "1", "--json"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value page = json::parse(r.out);
  ASSERT_EQ(page.at("items").as_array().size(), 1u);
  ASSERT_TRUE(page.at("next_cursor").is_string());
  r = vigil({"rollout", "list", "--limit", "1", "--cursor",
             std::string(page.at("next_cursor").as_string())},
            user_);
  EXPECT_NE(r.out.find("labels site=north"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("--cursor"), std::string::npos) << r.err;

  const std::string id = std::to_string(by_name);
  r = vigil({"rollout", "devices", id}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("#", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("pending"), std::string::npos) << r.out;
  EXPECT_LT(r.out.find("d1"), r.out.find("d2")) << r.out;  // in order
  r = vigil({"rollout", "devices", id, "--json"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  page = json::parse(r.out);
  ASSERT_EQ(page.at("items").as_array().size(), 2u);
  EXPECT_EQ(page.at("items").at(0).at("wave"), 0);  // d1: the canary (50 %)
  EXPECT_EQ(page.at("items").at(1).at("wave"), 1);  // d2: the batch of 1
  r = vigil({"rollout", "devices", id, "--state", "pending", "--limit", "1"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("d1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("d2"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("--cursor"), std::string::npos) << r.err;
  r = vigil({"rollout", "devices", id, "--state", "confirmed"}, user_);
  EXPECT_EQ(r.out.find("d1"), std::string::npos) << r.out;

  r = vigil({"rollout", "pause", id, "--reason", "checking the canary"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("paused rollout " + id +
                       " (update to m:2; 2 devices: pending 2); state "
                       "paused"),
            std::string::npos)
      << r.out;
  r = vigil({"rollout", "resume", id, "--json"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out).at("state"), "running");
  r = vigil({"rollout", "abort", id, "--reason", "wrong model"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("state aborted"), std::string::npos) << r.out;
  r = vigil({"rollout", "resume", id}, admin_);  // 409: only a paused rollout resumes
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("vigil: the rollout is aborted; only a paused rollout resumes"),
            std::string::npos)
      << r.err;

  auto me = client_->get("/api/v1/auth/me", {{"Authorization", "Bearer " + admin_}});
  ASSERT_EQ(me.status, 200) << me.body;
  const std::string email(me.json().at("email").as_string());
  r = vigil({"rollout", "show", id}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("state:       aborted\nreason:      wrong model\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("action:      update to m:2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("selection:   devices d1,d2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("devices:     2: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("canary_percent 50, batch_size 1,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" by " + email + "\n"), std::string::npos) << r.out;
  // The history in order: who (the admin's email, which the admin may read) and why.
  const auto started = r.out.find(email + "  -        running  started\n");
  const auto paused = r.out.find(email + "  running  paused   checking the canary");
  const auto resumed = r.out.find(email + "  paused   running  -");
  const auto aborted = r.out.find(email + "  running  aborted  wrong model");
  ASSERT_NE(started, std::string::npos) << r.out;
  ASSERT_NE(paused, std::string::npos) << r.out;
  ASSERT_NE(resumed, std::string::npos) << r.out;
  ASSERT_NE(aborted, std::string::npos) << r.out;
  EXPECT_TRUE(started < paused && paused < resumed && resumed < aborted) << r.out;
  // A user may not read the admin's account: the history names the user id.
  r = vigil({"rollout", "show", id}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("user " + std::to_string(admin_id_) + "  running  aborted  wrong model"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.err, "");
  r = vigil({"rollout", "show", id, "--json"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out).at("history").as_array().size(), 4u);
}

TEST_F(CliRemoteTest, RolloutRefusalsExitTwoWithTheServersReason) {
  rollout_fixture();
  for (const char* cmd : {"show", "devices", "pause", "resume", "abort"}) {
    CliRun r = vigil({"rollout", cmd, "999999"}, admin_);
    EXPECT_EQ(r.exit_code, 2) << cmd;
    EXPECT_NE(r.err.find("no rollout 999999"), std::string::npos) << cmd << ": " << r.err;
  }
  const std::vector<std::string> start = {"rollout",    "start", "--device",     "d1",
                                          "--to-model", "m",     "--to-version", "2"};
  CliRun r = vigil(start, user_);  // 403
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("rollouts.write"), std::string::npos) << r.err;
  using Case = std::pair<std::vector<std::string>, std::string>;  // extra flags, the reason
  for (const auto& [flags, why] : std::vector<Case>{
           {{"--canary-percent", "150"}, "canary_percent: must be an integer from 0 to 100"},
           {{"--batch-size", "abc"}, "--batch-size expects an integer, got 'abc'"},
           {{"--confirm-s", "600"}, "confirm_s: must be shorter than device_timeout_s"},
           {{"--action", "sideways"}, "action: must be update, rollback or blank"},
           {{"--action", "blank"}, "target: only for update"},
           {{"--all"}, "select: devices, nothing else"},
           {{"--label", "novalue"}, "--label expects KEY=VALUE"}}) {
    std::vector<std::string> args = start;
    args.insert(args.end(), flags.begin(), flags.end());
    r = vigil(args, admin_);
    EXPECT_EQ(r.exit_code, 2) << flags[0];
    EXPECT_NE(r.err.find(why), std::string::npos) << flags[0] << ": " << r.err;
  }
  r = vigil({"rollout", "start", "--to-model", "m", "--to-version", "2"}, admin_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("select: required"), std::string::npos) << r.err;
  r = vigil({"rollout", "start", "--device", "ghost", "--action", "blank"}, admin_);  // 404
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("ghost"), std::string::npos) << r.err;
  r = vigil({"rollout", "start", "--device", "d1", "--to-model", "m", "--to-version", "9"}, admin_);
  EXPECT_EQ(r.exit_code, 2);
  r = vigil({"rollout", "list", "--state", "open"}, user_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("state: must be one of running"), std::string::npos) << r.err;
  r = vigil({"rollout", "list", "--url", "http://127.0.0.1:1"}, user_);
  EXPECT_EQ(r.exit_code, 1);
  // Nothing was started.
  r = vigil({"rollout", "list", "--json"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(json::parse(r.out).at("items").as_array().empty()) << r.out;
}

// Flags win over the environment.
TEST_F(CliRemoteTest, FlagsOverrideTheEnvironment) {
  CliRun r = vigil({"device", "list", "--token", "not-a-token"}, admin_);
  EXPECT_EQ(r.exit_code, 2);
  r = vigil({"device", "list", "--token", admin_, "--url", url_ + "/"}, "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// task submit (CSV and JSON rows, --wait), list, show, cancel; credits topup and show.
TEST_F(CliRemoteTest, TasksAndCredits) {
  auto up = client_->request(
      http::verb::post, "/api/v1/models/risk/versions?kind=linear",
      R"({"weights":[2,0],"bias":1,"link":"identity"})",
      {{"Authorization", "Bearer " + admin_},
       {"Content-Type", "application/octet-stream"},
       {"Vigil-Metadata",
        R"({"features":["x","y"],"price_per_row":0.5,"bands":[{"below":4,"label":"low"},{"label":"high"}]})"}});
  ASSERT_EQ(up.status, 201) << up.body;
  CliRun r =
      vigil({"credits", "topup", std::to_string(admin_id_), "3", "--reason", "test"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "credited 3.0 to user " + std::to_string(admin_id_) + ": balance 3.0\n");
  EXPECT_EQ(vigil({"credits", "topup", "1", "x", "--reason", "r"}, admin_).exit_code, 2);

  std::ofstream(dir_ / "rows.csv") << "x,y\n1,\n3,2\n";
  r = vigil({"task", "submit", "--model", "risk", "--rows", (dir_ / "rows.csv").string(), "--wait"},
            admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(": done, risk:1, 2 rows, cost 1.0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1    7           high"), std::string::npos) << r.out;
  const std::string id = r.out.substr(5, r.out.find(':') - 5);

  std::ofstream(dir_ / "rows.json") << R"([{"x": 0.5}])";
  r = vigil({"task", "submit", "--model", "risk", "--rows", (dir_ / "rows.json").string(),
             "--idempotency-key", "k1", "--json"},
            admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out).at("status"), "queued");
  std::ofstream(dir_ / "bad.csv") << "x,y\n1,abc\n";
  r = vigil({"task", "submit", "--model", "risk", "--rows", (dir_ / "bad.csv").string()}, admin_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("abc is not a number"), std::string::npos) << r.err;
  std::ofstream(dir_ / "unknown.json") << R"([{"z": 1}])";
  r = vigil({"task", "submit", "--model", "risk", "--rows", (dir_ / "unknown.json").string()},
            admin_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("rows[0].z"), std::string::npos) << r.err;

  r = vigil({"task", "list", "--status", "done"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("ID", 0), 0u) << r.out;
  r = vigil({"task", "show", id}, admin_);
  EXPECT_NE(r.out.find("task " + id + ": done"), std::string::npos) << r.out;
  EXPECT_EQ(vigil({"task", "cancel", id}, admin_).exit_code, 2);  // done: 409
  EXPECT_EQ(vigil({"task", "show", id}, user_).exit_code, 2);     // not theirs: 404

  r = vigil({"credits", "show"}, admin_);
  EXPECT_EQ(r.out.rfind("balance ", 0), 0u) << r.out;
  r = vigil({"credits", "show", "--ledger"}, admin_);
  EXPECT_NE(r.out.find("task " + id + ": risk:1, 2 rows"), std::string::npos) << r.out;
}

TEST_F(CliRemoteTest, EverySubcommandHasHelp) {
  using Case = std::pair<std::vector<std::string>, std::string>;  // the command, what it lists
  for (const auto& [cmd, listed] : std::vector<Case>{{{"device"}, "enroll"},
                                                     {{"device", "add"}, "--label"},
                                                     {{"device", "list"}, "--online"},
                                                     {{"device", "show"}, "--url"},
                                                     {{"device", "enroll"}, "--expires-in"},
                                                     {{"alarm"}, "clear"},
                                                     {{"alarm", "list"}, "--since"},
                                                     {{"alarm", "ack"}, "--token"},
                                                     {{"alarm", "clear"}, "--json"},
                                                     {{"rollout"}, "devices"},
                                                     {{"rollout", "start"}, "--select-version"},
                                                     {{"rollout", "list"}, "--state"},
                                                     {{"rollout", "show"}, "--token"},
                                                     {{"rollout", "devices"}, "--cursor"},
                                                     {{"rollout", "pause"}, "--reason"},
                                                     {{"rollout", "resume"}, "--reason"},
                                                     {{"rollout", "abort"}, "--reason"},
                                                     {{"agent"}, "--state-dir"},
                                                     {{"task"}, "cancel"},
                                                     {{"task", "submit"}, "--idempotency-key"},
                                                     {{"task", "list"}, "--status"},
                                                     {{"task", "show"}, "--token"},
                                                     {{"task", "cancel"}, "--url"},
                                                     {{"credits"}, "topup"},
                                                     {{"credits", "show"}, "--ledger"},
                                                     {{"credits", "topup"}, "--reason"},
                                                     {{"record"}, "upload"},
                                                     {{"record", "upload"}, "FILE"},
                                                     {{"record", "list"}, "--min-score"},
                                                     {{"record", "show"}, "--json"},
                                                     {{"collect"}, "--data-dir"}}) {
    std::vector<std::string> args = cmd;
    args.push_back("--help");
    CliRun r = vigil(args, "");
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_NE(r.out.find(listed), std::string::npos) << r.out;
  }
}

// vigil sensor add/list/show, telemetry send and simulate: a sensor made with the CLI gets the
// points of a CSV file and of a replayed recording (the leak format), and reads them back.
TEST_F(CliRemoteTest, SensorsTelemetryAndSimulate) {
  CliRun r =
      vigil({"sensor", "add", "gas-1", "--unit", "ppmv", "--window", "48", "--pinned"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("window 48, exclusion 24"), std::string::npos) << r.out;
  r = vigil({"sensor", "list", "--pinned", "true"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("gas-1"), std::string::npos) << r.out;
  EXPECT_EQ(vigil({"sensor", "add", "x"}, user_).exit_code, 2);  // 403

  {
    std::ofstream f(dir_ / "points.csv");
    f << "at,value\n1000,1.5\n2000,inf\n3000,2.5\n";
  }
  r = vigil({"telemetry", "send", (dir_ / "points.csv").string(), "--sensor", "gas-1"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("accepted 2 points"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("skipped 1"), std::string::npos) << r.err;
  {
    std::ofstream f(dir_ / "bad.csv");
    f << "gas-1,1000,1\nnope,2000,1\n";
  }
  r = vigil({"telemetry", "send", (dir_ / "bad.csv").string()}, admin_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no sensor named nope"), std::string::npos) << r.err;

  {
    std::ofstream f(dir_ / "leak.csv");
    f << ",Time,Values\n0,2020-09-30 12:30:00,0.0\n1,2020-09-30 12:40:00,-inf\n"
         "2,2020-09-30 12:50:00,36.5\n";
  }
  ASSERT_EQ(vigil({"sensor", "add", "leak"}, admin_).exit_code, 0);
  r = vigil(
      {"simulate", "--csv", (dir_ / "leak.csv").string(), "--sensor", "leak", "--speed", "600x"},
      admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("sent 2 readings"), std::string::npos) << r.out;
  auto series =
      client_->get("/api/v1/sensors/leak/series?from=2020-09-30T00:00:00Z&to=2020-10-01T00:00:00Z",
                   {{"Authorization", "Bearer " + user_}});
  ASSERT_EQ(series.status, 200) << series.body;
  const json::value v = series.json();
  ASSERT_EQ(v.at("points").as_array().size(), 2u);
  EXPECT_EQ(v.at("points").at(1).at("at"), "2020-09-30T12:50:00.000Z");
  EXPECT_EQ(v.at("points").at(1).at("value"), 36.5);
  r = vigil({"simulate", "--csv", (dir_ / "bad.csv").string(), "--sensor", "leak"}, admin_);
  EXPECT_EQ(r.exit_code, 2) << "no time and value columns";
}

// vigil baseline: the library (list, add from a CSV file and cut from a sensor whose points came
// with `vigil telemetry send`, show, delete) and a sensor's baseline (select, set, augment,
// sensor); a user may read but not add.
TEST_F(CliRemoteTest, BaselineLibraryAndASensorsBaseline) {
  CliRun r = vigil({"--help"}, "");
  EXPECT_NE(r.out.find("baseline"), std::string::npos) << r.out;
  r = vigil({"baseline", "--help"}, "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("augment"), std::string::npos) << r.out;
  r = vigil({"baseline", "add", "--help"}, "");
  EXPECT_NE(r.out.find("--no-clean"), std::string::npos) << r.out;

  r = vigil({"baseline", "list"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("NAME", 0), 0u) << r.out;
  for (const char* seed : {"leak-18AIL012A", "leak-18AIJ012B", "leak-19H-QI-2272"}) {
    const size_t at = r.out.find(seed);
    ASSERT_NE(at, std::string::npos) << r.out;
    const std::string line = r.out.substr(at, r.out.find('\n', at) - at);
    EXPECT_NE(line.find(" seed "), std::string::npos) << line;
    EXPECT_NE(line.find(" 2016 "), std::string::npos) << line;
  }

  // A sensor with two weeks of a daily wave, ten minutes apart, sent as at,value lines.
  ASSERT_EQ(vigil({"sensor", "add", "wave"}, admin_).exit_code, 0);
  constexpr int64_t kT0 = 1'601'469'000'000;  // 2020-09-30T12:30:00Z
  {
    std::ofstream f(dir_ / "wave.csv");
    for (int i = 0; i < 2100; ++i) {
      f << kT0 + i * 600'000 << ","
        << std::round((50 + 10 * std::sin(i * 2 * M_PI / 144) + ((i * 7919) % 13) * 0.1) * 10) / 10
        << "\n";
    }
  }
  r = vigil({"telemetry", "send", (dir_ / "wave.csv").string(), "--sensor", "wave"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // From a CSV file: a header, at,value lines, a blank line and a nan (gaps), a blank line after.
  {
    std::ofstream f(dir_ / "daily.csv");
    f << "at,value\n";
    for (int i = 0; i < 1500; ++i) {
      if (i == 10) {
        f << "\n";
      } else if (i == 20) {
        f << i << ",nan\n";
      } else {
        f << i << "," << 50 + 10 * std::sin(i * 2 * M_PI / 144) + (i % 7) * 0.15 << "\n";
      }
    }
    f << "\n";
  }
  const std::string daily = (dir_ / "daily.csv").string();
  r = vigil({"baseline", "add", "daily", "--csv", daily}, user_);
  EXPECT_EQ(r.exit_code, 2) << "a user may not add";
  EXPECT_NE(r.err.find("vigil: "), std::string::npos) << r.err;
  r = vigil({"baseline", "add", "daily", "--csv", daily}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("added baseline daily: 1500 points"), std::string::npos) << r.out;
  EXPECT_EQ(vigil({"baseline", "add", "x"}, admin_).exit_code, 2) << "neither --csv nor --sensor";
  EXPECT_EQ(vigil({"baseline", "add", "x", "--sensor", "wave"}, admin_).exit_code, 2);

  // Cut from the sensor's first week.
  r = vigil({"baseline", "add", "wave-week", "--sensor", "wave", "--from", std::to_string(kT0),
             "--to", "2020-10-07T12:30:00Z"},
            admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(wave from 2020-09-30T12:30:00.000Z"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 discord windows cleaned out"), std::string::npos) << r.out;

  r = vigil({"baseline", "show", "wave-week"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("source:   sensor"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cut from: wave, 2020-09-30T12:30:00.000Z"), std::string::npos) << r.out;
  r = vigil({"baseline", "show", "daily"}, user_);
  EXPECT_NE(r.out.find("points:   1500 (2 gaps"), std::string::npos) << r.out;
  r = vigil({"baseline", "show", "daily", "--values"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<std::string> values;
  for (std::string line; std::getline(lines, line);) values.push_back(line);
  ASSERT_EQ(values.size(), 1500u);
  EXPECT_EQ(values[0], "50");
  EXPECT_EQ(values[10], "nan");
  EXPECT_EQ(values[20], "nan");

  r = vigil({"baseline", "sensor", "wave"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("current:  none"), std::string::npos) << r.out;

  r = vigil({"baseline", "select", "wave"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"leak-18AIL012A", "daily", "wave-week"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << r.out;
  }
  EXPECT_NE(r.out.find("  no  "), std::string::npos) << "some candidates do not fit: " << r.out;
  EXPECT_TRUE(r.out.find("selected daily") != std::string::npos ||
              r.out.find("selected wave-week") != std::string::npos)
      << r.out;

  r = vigil({"baseline", "set", "wave", "daily"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("sensor wave: set of daily"), std::string::npos) << r.out;
  EXPECT_EQ(vigil({"baseline", "set", "wave", "nope"}, admin_).exit_code, 2);
  r = vigil({"baseline", "augment", "wave"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("augmented wave's baseline with"), std::string::npos) << r.out;

  r = vigil({"baseline", "sensor", "wave"}, user_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("current:  augment of "), std::string::npos) << r.out;
  for (const char* action : {"  augment  ", "  set  ", "  select  "}) {
    EXPECT_NE(r.out.find(action), std::string::npos) << r.out;
  }

  r = vigil({"baseline", "delete", "daily"}, admin_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = vigil({"baseline", "delete", "daily"}, admin_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("vigil: "), std::string::npos) << r.err;
  r = vigil({"baseline", "list"}, user_);
  EXPECT_EQ(r.out.find("daily"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wave-week"), std::string::npos) << r.out;
}

// vigil record upload/list/show: each file stored or refused with the server's reason (exit 2
// when any was refused), the list filtered, one record shown with its stages and channels.
TEST_F(CliRemoteTest, RecordUploadListAndShow) {
  auto named = client_->request(
      http::verb::post, "/api/v1/users",
      json::serialize(json::object{{"email", "alice@example.com"},
                                   {"password", "alice-password-1"},
                                   {"role", "user"},
                                   {"username", "alice"}}),
      {{"Authorization", "Bearer " + admin_}, {"Content-Type", "application/json"}});
  ASSERT_EQ(named.status, 201) << named.body;
  const std::string data = std::string(VIGIL_TEST_DATA_DIR) + "/records/";
  CliRun up = vigil({"record", "upload", data + "record_alice_night1.h5", data + "bad_not_hdf5.h5",
                     data + "record_bob_night1.h5"},
                    admin_);
  EXPECT_EQ(up.exit_code, 2) << up.out << up.err;
  EXPECT_NE(up.out.find("record_alice_night1.h5: record 1 of alice on dreem-0042"),
            std::string::npos)
      << up.out;
  EXPECT_NE(up.err.find("not an HDF5 file"), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("no user has the username bob"), std::string::npos) << up.err;
  EXPECT_EQ(vigil({"record", "upload", data + "record_bob_night1.h5"}, user_).exit_code, 2);

  CliRun list = vigil({"record", "list", "--user", "alice", "--min-score", "90"}, user_);
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("EFFICIENCY"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("record_alice_night1.h5"), std::string::npos) << list.out;
  CliRun none = vigil({"record", "list", "--min-score", "99"}, user_);
  EXPECT_EQ(none.out.find("record_alice_night1.h5"), std::string::npos) << none.out;
  CliRun show = vigil({"record", "show", "1"}, user_);
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("F7_O1"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("stages:"), std::string::npos) << show.out;
  EXPECT_EQ(vigil({"record", "show", "9"}, user_).exit_code, 2);
}

}  // namespace
}  // namespace vigil
