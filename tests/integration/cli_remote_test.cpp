// The real `vigil` binary's device and alarm commands against a running server (a TestApp):
// tables and --json, errors with the problem's detail and exit 2 for input the server refused,
// 1 when there is no server; --url/--token from flags or VIGIL_URL/VIGIL_TOKEN.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/wait.h>

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

// Flags win over the environment.
TEST_F(CliRemoteTest, FlagsOverrideTheEnvironment) {
  CliRun r = vigil({"device", "list", "--token", "not-a-token"}, admin_);
  EXPECT_EQ(r.exit_code, 2);
  r = vigil({"device", "list", "--token", admin_, "--url", url_ + "/"}, "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
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
                                                     {{"alarm", "clear"}, "--json"}}) {
    std::vector<std::string> args = cmd;
    args.push_back("--help");
    CliRun r = vigil(args, "");
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_NE(r.out.find(listed), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace vigil
