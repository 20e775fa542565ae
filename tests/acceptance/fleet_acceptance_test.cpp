// The fleet's acceptance test (issue 14), with real processes only: a `vigil serve`, two
// `vigil agent`s enrolled with codes, and an admin over HTTP. The agents pull a model and report
// alarms for the rows they score; the admin rolls the fleet forward, back and onto the blank
// model, which never alarms. Along the way: the server is killed (SIGKILL) in the middle of a
// rollout and restarted, and the agents finish it; an agent that is offline when a rollout
// starts gets its command when it connects; a corrupted artifact and a bad signature are
// refused by the agent, which keeps running its old model. On SQLite and on PostgreSQL.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <signal.h>

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "acceptance/acceptance.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using boost::beast::http::verb;
using namespace std::chrono_literals;

using testing::slurp;

// Feature rows of the breast-cancer model's reference data, as CSV lines: those its prediction
// puts at or above 0.5 (`hot`), and the others.
struct Rows {
  std::vector<std::string> hot, cold;
};
Rows reference_rows() {
  json::value expected =
      json::parse(slurp(fs::path(VIGIL_TEST_DATA_DIR) / "models/breast_cancer.expected.json"));
  Rows out;
  const auto& rows = expected.at("rows").as_array();
  const auto& predictions = expected.at("predictions").as_array();
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string line;
    const auto& values = rows[i].as_array();
    for (size_t j = 0; j < values.size(); ++j) {
      if (j > 0) line += ",";
      if (!values[j].is_null()) line += json::serialize(values[j]);  // empty: missing
    }
    (predictions[i].to_number<double>() >= 0.5 ? out.hot : out.cold).push_back(line);
  }
  return out;
}

class FleetAcceptanceTest : public testing::AcceptanceTest {
 protected:
  void SetUp() override { set_up(); }
  void TearDown() override {
    agents_.clear();
    tear_down({"a1", "a2"});
  }

  int64_t upload(const std::string& name, const std::string& bytes, const std::string& metadata) {
    auto r =
        api_->request(verb::post, "/api/v1/models/" + name + "/versions?kind=xgboost", bytes,
                      {{"Content-Type", "application/octet-stream"}, {"Vigil-Metadata", metadata}});
    EXPECT_EQ(r.status, 201) << r.body;
    json::value v = r.json();
    return v.is_object() ? v.at("version").as_int64() : 0;
  }

  std::string running(const std::string& device) {
    auto r = api_->get_json("/api/v1/devices/" + device);
    if (!r.ok()) return "?";
    const json::value& m = r->at("running");
    return m.is_null() ? "none"
                       : std::string(m.at("name").as_string()) + ":" +
                             std::to_string(m.at("version").as_int64());
  }

  bool runs(const std::vector<std::string>& devices, const std::string& model) {
    for (const auto& d : devices) {
      if (running(d) != model) return false;
    }
    return true;
  }

  void start_agent(const std::string& name, const std::string& device) {
    std::vector<std::string> args{"agent",
                                  "--url",
                                  url_,
                                  "--state-dir",
                                  (dir_ / name).string(),
                                  "--input",
                                  (dir_ / (name + ".csv")).string(),
                                  "--retry-max-s",
                                  "1",
                                  "--ping-s",
                                  "2"};
    if (!fs::exists(dir_ / name / "agent.json")) {
      json::value code =
          call(verb::post, "/api/v1/devices/" + device + "/enrollments", json::object{});
      ASSERT_TRUE(code.is_object());
      args.insert(args.end(),
                  {"--code", std::string(code.at("code").as_string()), "--watchdog", name});
      std::ofstream(dir_ / (name + ".csv")) << "# rows for " << name << "\n";
    }
    agents_[name] = std::make_unique<testing::ChildProcess>(VIGIL_EXE, args, dir_, dir_ / name);
    ASSERT_TRUE(agents_[name]->started());
  }

  void stop_agent(const std::string& name) {
    EXPECT_EQ(agents_.at(name)->stop(), 0) << "agent " << name << " did not stop cleanly";
    agents_.erase(name);
  }

  void append_rows(const std::string& agent, const std::vector<std::string>& rows) {
    std::ofstream out(dir_ / (agent + ".csv"), std::ios::app);
    for (const auto& r : rows) out << r << "\n";
  }

  // The reports of the device's open alarms (0 when it has none).
  int64_t alarm_reports(const std::string& device) {
    auto r = api_->get_json("/api/v1/alarms?state=active&device=" + device);
    if (!r.ok()) return -1;
    int64_t n = 0;
    for (const auto& a : r->at("items").as_array()) n += a.at("count").as_int64();
    return n;
  }

  void clear_alarms() {
    json::value page = call(verb::get, "/api/v1/alarms?state=active&limit=1000");
    for (const auto& a : page.at("items").as_array()) {
      call(verb::post, "/api/v1/alarms/" + std::to_string(a.at("id").as_int64()) + "/clear",
           json::object{});
    }
  }

  int64_t start_rollout(json::object body) {
    body.emplace("min_sample", 1);
    json::value r = call(verb::post, "/api/v1/rollouts", body);
    return r.is_object() ? r.at("id").as_int64() : 0;
  }

  std::string rollout_state(int64_t id) {
    auto r = api_->get_json("/api/v1/rollouts/" + std::to_string(id));
    return r.ok() ? std::string(r->at("state").as_string()) : "?";
  }

  json::array rollout_devices(int64_t id) {
    json::value r = call(verb::get, "/api/v1/rollouts/" + std::to_string(id) + "/devices");
    return r.is_object() ? r.at("items").as_array() : json::array{};
  }

  int64_t rollout_count(int64_t id, const char* state) {
    auto r = api_->get_json("/api/v1/rollouts/" + std::to_string(id));
    return r.ok() ? r->at("counts").at(state).as_int64() : -1;
  }

  fs::path cached_artifact(const std::string& sha256) {
    return dir_ / "var/cache/artifacts" / sha256.substr(0, 2) / sha256;
  }

  std::map<std::string, std::unique_ptr<testing::ChildProcess>> agents_;
};

TEST_P(FleetAcceptanceTest, TheAdminFlowWithRealAgents) {
  const Rows rows = reference_rows();
  ASSERT_FALSE(rows.hot.empty());
  const std::string model_json = slurp(fs::path(VIGIL_TEST_DATA_DIR) / "models/breast_cancer.json");
  const std::string model_ubj = slurp(fs::path(VIGIL_TEST_DATA_DIR) / "models/breast_cancer.ubj");
  // v1 alarms at 0.5; v2, the same trees in UBJ, only at 0.9999 (none of the rows reach it).
  ASSERT_EQ(upload("bc", model_json, R"({"alarm_threshold":0.5})"), 1);
  ASSERT_EQ(upload("bc", model_ubj, R"({"alarm_threshold":0.9999})"), 2);
  for (const char* d : {"d1", "d2"}) {
    call(verb::post, "/api/v1/devices",
         json::object{{"name", d}, {"labels", json::object{{"site", "north"}}}});
    call(verb::put, std::string("/api/v1/devices/") + d + "/model",
         json::object{{"model", "bc"}, {"version", 1}});
  }
  start_agent("a1", "d1");
  start_agent("a2", "d2");
  ASSERT_TRUE(eventually(
      [&] {
        return runs({"d1", "d2"}, "bc:1");
      },
      30s))
      << "d1 " << running("d1") << ", d2 " << running("d2");

  {
    SCOPED_TRACE("the watchdog reports alarms; the admin sees them");
    append_rows("a1", rows.cold);
    // A burst: more alarms than the server lets a session have waiting (64); the agent keeps
    // a few in flight and every one arrives, each counted on the one open alarm.
    for (int i = 0; i < 10; ++i) append_rows("a1", rows.hot);
    const int64_t burst = 10 * static_cast<int64_t>(rows.hot.size());
    ASSERT_TRUE(eventually([&] { return alarm_reports("d1") == burst; }, 30s))
        << alarm_reports("d1") << " of " << burst;
    json::value alarms = call(verb::get, "/api/v1/alarms?device=d1");
    const json::value& first = alarms.at("items").at(0);
    EXPECT_EQ(first.at("model"), (json::object{{"name", "bc"}, {"version", 1}}));
    EXPECT_EQ(first.at("watchdog"), "a1");
    EXPECT_EQ(alarm_reports("d2"), 0);
  }

  {
    SCOPED_TRACE("update every device on bc:1 to bc:2; the server is killed mid-rollout");
    const int64_t id = start_rollout({{"select", {{"model", "bc"}, {"version", 1}}},
                                      {"action", "update"},
                                      {"target", {{"model", "bc"}, {"version", 2}}},
                                      {"canary_percent", 50},
                                      {"batch_size", 10},
                                      {"confirm_s", 3}});
    ASSERT_GT(id, 0);
    ASSERT_TRUE(eventually([&] { return rollout_count(id, "applied") >= 1; }, 20s));
    server_->signal(SIGKILL);
    ASSERT_TRUE(server_->wait(10s).has_value());
    start_server();
    ASSERT_TRUE(eventually([&] { return rollout_state(id) == "completed"; }, 60s))
        << rollout_state(id);
    EXPECT_EQ(rollout_count(id, "confirmed"), 2);
    EXPECT_TRUE(runs({"d1", "d2"}, "bc:2"));
  }

  {
    SCOPED_TRACE("roll back while a2 is offline: it gets its command when it connects");
    stop_agent("a2");
    const int64_t id = start_rollout({{"select", {{"model", "bc"}, {"version", 2}}},
                                      {"action", "rollback"},
                                      {"canary_percent", 50},
                                      {"batch_size", 10},
                                      {"confirm_s", 0}});
    ASSERT_GT(id, 0);
    ASSERT_TRUE(eventually([&] { return running("d1") == "bc:1"; }, 20s)) << running("d1");
    EXPECT_EQ(running("d2"), "bc:2");
    EXPECT_EQ(rollout_state(id), "running");
    start_agent("a2", "d2");
    ASSERT_TRUE(eventually([&] { return rollout_state(id) == "completed"; }, 30s))
        << rollout_state(id);
    EXPECT_TRUE(runs({"d1", "d2"}, "bc:1"));
    // Back on bc:1, a2 alarms on the rows that bc:1 finds hot.
    append_rows("a2", rows.hot);
    EXPECT_TRUE(eventually([&] { return alarm_reports("d2") >= 1; }, 20s));
  }

  {
    SCOPED_TRACE("a corrupted artifact is refused: the device keeps its model");
    // v3: the same trees with one more byte of whitespace, so a file of its own; then the
    // server's copy of it is damaged on disk, and it serves bytes that do not match the sha256.
    ASSERT_EQ(upload("bc", model_json + " ", R"({"alarm_threshold":0.5})"), 3);
    json::value v3 = call(verb::get, "/api/v1/models/bc/versions/3");
    const std::string sha = std::string(v3.at("sha256").as_string());
    // The cache copy appears when the file is first served; make it so, then damage it.
    ASSERT_EQ(api_->get("/api/v1/models/bc/versions/3/artifact").status, 200);
    std::string damaged = slurp(cached_artifact(sha));
    ASSERT_FALSE(damaged.empty());
    damaged[damaged.size() / 2] ^= 0x20;
    std::ofstream(cached_artifact(sha), std::ios::binary | std::ios::trunc) << damaged;

    const int64_t id = start_rollout({{"select", {{"devices", json::array{"d1"}}}},
                                      {"action", "update"},
                                      {"target", {{"model", "bc"}, {"version", 3}}},
                                      {"confirm_s", 0}});
    ASSERT_TRUE(eventually([&] { return rollout_count(id, "failed") == 1; }, 20s));
    json::array devices = rollout_devices(id);
    ASSERT_EQ(devices.size(), 1u);
    EXPECT_NE(std::string(devices[0].at("reason").as_string()).find("sha256"), std::string::npos)
        << devices[0];
    EXPECT_EQ(running("d1"), "bc:1");
    clear_alarms();
    append_rows("a1", rows.hot);  // still scoring with bc:1
    EXPECT_TRUE(eventually([&] { return alarm_reports("d1") >= 1; }, 20s));
    EXPECT_TRUE(agents_.at("a1")->running());
  }

  {
    SCOPED_TRACE("a model whose signature does not verify is refused");
    stop_agent("a2");
    // a2 now trusts another key (one base64 character changed): every signature fails for it.
    const fs::path identity = dir_ / "a2" / "agent.json";
    json::value saved = json::parse(slurp(identity));
    const std::string key = std::string(saved.at("signing_key").as_string());
    std::string other = key;
    other[0] = key[0] == 'A' ? 'B' : 'A';
    saved.as_object()["signing_key"] = other;
    std::ofstream(identity, std::ios::trunc) << json::serialize(saved);
    start_agent("a2", "d2");
    const int64_t id = start_rollout({{"select", {{"devices", json::array{"d2"}}}},
                                      {"action", "update"},
                                      {"target", {{"model", "bc"}, {"version", 2}}},
                                      {"confirm_s", 0}});
    ASSERT_TRUE(eventually([&] { return rollout_count(id, "failed") == 1; }, 20s));
    json::array devices = rollout_devices(id);
    ASSERT_EQ(devices.size(), 1u);
    EXPECT_NE(std::string(devices[0].at("reason").as_string()).find("signature"), std::string::npos)
        << devices[0];
    EXPECT_EQ(running("d2"), "bc:1");
    // Trust the right key again.
    stop_agent("a2");
    saved.as_object()["signing_key"] = key;
    std::ofstream(identity, std::ios::trunc) << json::serialize(saved);
    start_agent("a2", "d2");
  }

  {
    SCOPED_TRACE("park the site on the blank model: no more alarms");
    const int64_t id = start_rollout({{"select", {{"labels", {{"site", "north"}}}}},
                                      {"action", "blank"},
                                      {"canary_percent", 50},
                                      {"batch_size", 10},
                                      {"confirm_s", 0}});
    ASSERT_TRUE(eventually([&] { return rollout_state(id) == "completed"; }, 30s))
        << rollout_state(id);
    EXPECT_TRUE(runs({"d1", "d2"}, "blank:1"));
    clear_alarms();
    append_rows("a1", rows.hot);
    append_rows("a2", rows.hot);
    // The same rows alarmed within a second under bc:1 above; give them three.
    std::this_thread::sleep_for(3s);
    EXPECT_EQ(alarm_reports("d1"), 0);
    EXPECT_EQ(alarm_reports("d2"), 0);
  }

  for (const char* a : {"a1", "a2"}) EXPECT_TRUE(agents_.at(a)->running()) << a;
}

TEST_P(FleetAcceptanceTest, AnAgentThatCannotEnrollOrIsRemovedStopsWithTheReason) {
  call(verb::post, "/api/v1/devices", json::object{{"name", "d1"}});
  {
    testing::ChildProcess none(VIGIL_EXE, {"agent", "--state-dir", (dir_ / "none").string()}, dir_,
                               dir_ / "none");
    EXPECT_EQ(none.wait(20s), 2);
    EXPECT_NE(none.err().find("not enrolled"), std::string::npos) << none.err();
  }
  {
    testing::ChildProcess bad(VIGIL_EXE,
                              {"agent", "--url", url_, "--state-dir", (dir_ / "bad").string(),
                               "--code", "AAAAAAAAAAAAAAAA", "--watchdog", "w"},
                              dir_, dir_ / "bad");
    EXPECT_EQ(bad.wait(20s), 2);
    EXPECT_NE(bad.err().find("code"), std::string::npos) << bad.err();
    EXPECT_FALSE(fs::exists(dir_ / "bad" / "agent.json"));
  }
  // Enrolled, then its watchdog is deleted: the session ends, the token is refused, exit 3.
  start_agent("a1", "d1");
  ASSERT_TRUE(eventually(
      [&] {
        auto d = api_->get_json("/api/v1/devices/d1");
        return d.ok() && d->at("online") == true;
      },
      20s));
  auto deleted = api_->request(verb::delete_, "/api/v1/watchdogs/a1");
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_EQ(agents_.at("a1")->wait(20s), 3);
  EXPECT_NE(agents_.at("a1")->err().find("enroll again"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, FleetAcceptanceTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigil
