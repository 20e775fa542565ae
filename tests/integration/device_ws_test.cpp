// The device WebSocket (API.md "WebSocket: devices", docs/protocol.md) end to end with a real
// server on SQLite and PostgreSQL: hello/welcome and the catch-up command, statuses moving a
// command to confirmed, pushes of a new assignment, pulls, alarms and their acks, errors that
// keep the session, who may connect, and a deleted watchdog's session closing.
//
// Ordering without clocks: the hub answers a pull only after every earlier message of the
// session was written, so a pull is the barrier that says "everything before it is stored".
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <algorithm>
#include <thread>

#include "core/ids.h"
#include "fleet/model_signer.h"
#include "support/http_client.h"
#include "support/test_app.h"
#include "support/ws_client.h"

namespace vigil {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;
using testing::HttpResult;
using testing::WsClient;
using Headers = std::map<std::string, std::string>;

constexpr auto kWait = 5s;

class DeviceWsTest : public testing::BackendAppTest {
 protected:
  void SetUp() override {
    start_app({}, "devws");
    if (IsSkipped() || HasFatalFailure()) return;
    admin_ = {{"Authorization", "Bearer " + app_->account("admin").second}};
    for (const char* weights : {"[1,2]", "[3,4]"}) {
      auto r = client_->request(http::verb::post, "/api/v1/models/m/versions?kind=linear",
                                std::string(R"({"weights":)") + weights + R"(,"bias":0.5})",
                                metadata(with(admin_, "application/octet-stream")));
      ASSERT_EQ(r.status, 201) << r.body;
    }
    ASSERT_EQ(send(http::verb::post, "/api/v1/devices", {{"name", "d1"}}).status, 201);
    token_ = enroll("d1", "w1");
    ASSERT_FALSE(token_.empty());
    auto key = client_->get("/api/v1/fleet/signing-key", admin_);
    ASSERT_EQ(key.status, 200);
    signing_key_ = std::string(key.json().at("public_key").as_string());
  }

  static Headers with(Headers h, const std::string& type) {
    h.emplace("Content-Type", type);
    return h;
  }
  static Headers metadata(Headers h) {
    h.emplace("Vigil-Metadata", R"({"alarm_threshold":0.75})");
    return h;
  }
  HttpResult send(http::verb method, const std::string& path, const json::value& body) {
    return client_->request(method, path, json::serialize(body), with(admin_, "application/json"));
  }
  std::string enroll(const std::string& device, const std::string& watchdog) {
    auto code =
        send(http::verb::post, "/api/v1/devices/" + device + "/enrollments", json::object{});
    EXPECT_EQ(code.status, 201) << code.body;
    if (code.status != 201) return {};
    const json::value c = code.json();
    auto r = client_->request(
        http::verb::post, "/api/v1/enroll",
        json::serialize(json::object{{"code", c.at("code")}, {"watchdog", watchdog}}),
        {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    return std::string(r.json().at("token").as_string());
  }
  std::unique_ptr<WsClient> connect(const std::string& token) {
    auto ws = std::make_unique<WsClient>(app_->port(), "/api/v1/ws/device", token);
    EXPECT_TRUE(ws->ok()) << ws->status() << " " << ws->error();
    return ws;
  }
  static json::object hello(std::optional<std::pair<std::string, int>> model) {
    json::object h{{"type", "hello"}, {"agent", "test/1.0"}, {"model", nullptr}};
    if (model) h["model"] = {{"name", model->first}, {"version", model->second}};
    return h;
  }
  static json::object status(int64_t ref, const std::string& state, const std::string& error = {}) {
    json::object s{{"type", "status"}, {"ref", ref}, {"state", state}};
    if (!error.empty()) s["error"] = error;
    return s;
  }
  // Pulls m:1 and returns the next frame, which must be the model: everything sent before the
  // pull is stored by then.
  void barrier(WsClient& ws) {
    ASSERT_TRUE(ws.send({{"type", "pull"}, {"model", {{"name", "m"}, {"version", 1}}}}));
    auto m = ws.next(kWait);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->at("type"), "model") << json::serialize(*m);
  }
  json::value device(const std::string& name) {
    auto r = client_->get("/api/v1/devices/" + name, admin_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  bool signature_ok(const json::object& model) {
    return fleet::verify_model_signature(signing_key_, std::string(model.at("name").as_string()),
                                         model.at("version").as_int64(),
                                         std::string(model.at("sha256").as_string()),
                                         std::string(model.at("signature").as_string()));
  }

  Headers admin_;
  std::string token_;
  std::string signing_key_;
};

TEST_P(DeviceWsTest, HelloGetsWelcomeAndTheMissingCommandWhichStatusesConfirm) {
  // Assigned while offline: the command waits for the device.
  ASSERT_EQ(
      send(http::verb::put, "/api/v1/devices/d1/model", {{"model", "m"}, {"version", 1}}).status,
      200);
  EXPECT_EQ(device("d1").at("online"), false);
  auto ws = connect(token_);
  ASSERT_TRUE(ws->send(hello(std::nullopt)));
  auto welcome = ws->next(kWait);
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->at("type"), "welcome");
  EXPECT_EQ(welcome->at("watchdog"), "w1");
  EXPECT_EQ(welcome->at("device"), "d1");
  const json::object assigned = welcome->at("assigned").as_object();
  EXPECT_EQ(assigned.at("version"), 1);
  EXPECT_EQ(assigned.at("url"), "/api/v1/models/m/versions/1/artifact");
  EXPECT_TRUE(signature_ok(assigned));
  // What the agent needs to load and use it (extension, docs/protocol.md).
  EXPECT_EQ(assigned.at("kind"), "linear");
  EXPECT_EQ(assigned.at("metadata"), (json::object{{"alarm_threshold", 0.75}}));
  auto command = ws->next(kWait);
  ASSERT_TRUE(command);
  ASSERT_EQ(command->at("type"), "command") << json::serialize(*command);
  EXPECT_EQ(command->at("action"), "update");
  EXPECT_TRUE(signature_ok(command->at("model").as_object()));
  const int64_t id = command->at("id").as_int64();
  EXPECT_EQ(device("d1").at("online"), true);

  // The artifact is fetched over HTTP with the same token, and matches the sha256.
  auto artifact = client_->get(std::string(assigned.at("url").as_string()),
                               {{"Authorization", "Bearer " + token_}});
  ASSERT_EQ(artifact.status, 200);
  EXPECT_EQ(sha256_hex(artifact.body), assigned.at("sha256").as_string());

  for (const char* st : {"downloading", "applied", "confirmed"})
    ASSERT_TRUE(ws->send(status(id, st)));
  barrier(*ws);
  auto d = device("d1");
  EXPECT_EQ(d.at("running"), (json::value{{"name", "m"}, {"version", 1}}));
  const std::string metrics = client_->get("/metrics").body;
  for (const char* st : {"downloading", "applied", "confirmed"}) {
    EXPECT_NE(
        metrics.find("vigil_fleet_command_reports_total{state=\"" + std::string(st) + "\"} 1"),
        std::string::npos)
        << st;
  }

  // Reconnected with what it should run: a welcome and no command (the next frame is the
  // barrier's model).
  ws->close();
  ws = connect(token_);
  ASSERT_TRUE(ws->send(hello(std::pair<std::string, int>{"m", 1})));
  ASSERT_EQ(ws->next(kWait)->at("type"), "welcome");
  barrier(*ws);

  // Crashed back to nothing: the hello heals it with a new command for m:1.
  ws->close();
  ws = connect(token_);
  ASSERT_TRUE(ws->send(hello(std::nullopt)));
  ASSERT_EQ(ws->next(kWait)->at("type"), "welcome");
  auto again = ws->next(kWait);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->at("type"), "command");
  EXPECT_NE(again->at("id").as_int64(), id);
}

TEST_P(DeviceWsTest, AnAssignmentIsPushedAndAFailureKeepsTheOldModel) {
  auto ws = connect(token_);
  ASSERT_TRUE(ws->send(hello(std::pair<std::string, int>{"m", 1})));
  auto welcome = ws->next(kWait);
  ASSERT_TRUE(welcome);
  EXPECT_TRUE(welcome->at("assigned").is_null());  // nothing assigned yet
  barrier(*ws);
  ASSERT_EQ(
      send(http::verb::put, "/api/v1/devices/d1/model", {{"model", "m"}, {"version", 2}}).status,
      200);
  auto command = ws->next(kWait);
  ASSERT_TRUE(command);
  ASSERT_EQ(command->at("type"), "command");
  EXPECT_EQ(command->at("model").at("version"), 2);
  const int64_t id = command->at("id").as_int64();
  ASSERT_TRUE(ws->send(status(id, "failed", "signature mismatch")));
  barrier(*ws);
  auto d = device("d1");
  EXPECT_EQ(d.at("running"), (json::value{{"name", "m"}, {"version", 1}}));
  EXPECT_EQ(d.at("model"), (json::value{{"name", "m"}, {"version", 2}}));
  // A failed command is not re-issued on the next hello (an admin assigns again to retry).
  ws->close();
  ws = connect(token_);
  ASSERT_TRUE(ws->send(hello(std::pair<std::string, int>{"m", 1})));
  ASSERT_EQ(ws->next(kWait)->at("type"), "welcome");
  barrier(*ws);
  // A status for a command that is final already changes nothing.
  ASSERT_TRUE(ws->send(status(id, "confirmed")));
  barrier(*ws);
  EXPECT_EQ(device("d1").at("running"), (json::value{{"name", "m"}, {"version", 1}}));
}

TEST_P(DeviceWsTest, BadMessagesGetAnErrorAndTheSessionGoesOn) {
  auto ws = connect(token_);
  ASSERT_TRUE(ws->send_text("{not json"));
  auto e = ws->next(kWait);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->at("type"), "error");
  EXPECT_TRUE(e->at("ref").is_null());
  ASSERT_TRUE(ws->send({{"type", "teleport"}, {"id", "x1"}}));
  e = ws->next(kWait);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->at("type"), "error");
  EXPECT_EQ(e->at("ref"), "x1");
  ASSERT_TRUE(ws->send(status(1, "confirmed")));  // before hello
  e = ws->next(kWait);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->at("detail"), "send hello first");
  ASSERT_TRUE(ws->send({{"type", "status"}, {"ref", 1}, {"state", "exploded"}}));
  e = ws->next(kWait);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->at("type"), "error");
  ASSERT_TRUE(ws->send(hello(std::nullopt)));
  ASSERT_EQ(ws->next(kWait)->at("type"), "welcome");
  ASSERT_TRUE(ws->send(status(999999, "confirmed")));
  e = ws->next(kWait);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->at("type"), "error");
  ASSERT_TRUE(ws->send({{"type", "pull"}, {"model", {{"name", "nope"}, {"version", "latest"}}}}));
  e = ws->next(kWait);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->at("type"), "error");
  ASSERT_TRUE(ws->send({{"type", "ping"}}));
  auto pong = ws->next(kWait);
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->at("type"), "pong");
  ASSERT_TRUE(ws->send({{"type", "pull"}, {"model", {{"name", "M"}, {"version", "latest"}}}}));
  auto latest = ws->next(kWait);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->at("type"), "model");
  EXPECT_EQ(latest->at("version"), 2);
  EXPECT_EQ(latest->at("name"), "m");
  EXPECT_TRUE(signature_ok(*latest));
}

TEST_P(DeviceWsTest, AlarmsAreAckedAndAResendIsStoredOnce) {
  auto ws = connect(token_);
  ASSERT_TRUE(ws->send(hello(std::pair<std::string, int>{"m", 1})));
  ASSERT_EQ(ws->next(kWait)->at("type"), "welcome");
  json::object alarm{{"type", "alarm"},
                     {"id", "a-1"},
                     {"severity", "major"},
                     {"model", {{"name", "m"}, {"version", 1}}},
                     {"details", {{"score", 0.93}}}};
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(ws->send(alarm));
    auto ack = ws->next(kWait);
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->at("type"), "ack");
    EXPECT_EQ(ack->at("ref"), "a-1");
  }
  alarm["id"] = "a-2";
  ASSERT_TRUE(ws->send(alarm));
  ASSERT_EQ(ws->next(kWait)->at("type"), "ack");
  auto rows = app_->app().database().query("SELECT count, severity FROM alarms");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->get_int(0, 0), 2);  // a-1 once, a-2 once
  alarm["severity"] = "loud";
  ASSERT_TRUE(ws->send(alarm));
  auto e = ws->next(kWait);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->at("type"), "error");
  EXPECT_EQ(e->at("ref"), "a-2");
}

TEST_P(DeviceWsTest, OnlyWatchdogsConnectAndADeletedOneIsClosed) {
  WsClient anonymous(app_->port(), "/api/v1/ws/device");
  EXPECT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.status(), 401);
  WsClient user(app_->port(), "/api/v1/ws/device", app_->account("user").second);
  EXPECT_EQ(user.status(), 403);
  WsClient admin(app_->port(), "/api/v1/ws/device", admin_.at("Authorization").substr(7));
  EXPECT_EQ(admin.status(), 403);

  auto ws = connect(token_);
  ASSERT_TRUE(ws->send(hello(std::nullopt)));
  ASSERT_EQ(ws->next(kWait)->at("type"), "welcome");
  auto listed = client_->get("/api/v1/watchdogs", admin_);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.json().at("items").at(0).at("online"), true);
  // A second session of the same watchdog replaces the first.
  auto second = connect(token_);
  ASSERT_TRUE(second->send(hello(std::nullopt)));
  ASSERT_EQ(second->next(kWait)->at("type"), "welcome");
  EXPECT_TRUE(ws->closed_within(kWait));
  EXPECT_EQ(client_->request(http::verb::delete_, "/api/v1/watchdogs/w1", {}, admin_).status, 204);
  EXPECT_TRUE(second->closed_within(kWait));
  // Offline once its session ended (the hub writes it after the close).
  bool offline = false;
  for (int i = 0; i < 100 && !offline; ++i) {
    offline = device("d1").at("online") == false;
    if (!offline) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(offline);
  WsClient revoked(app_->port(), "/api/v1/ws/device", token_);
  EXPECT_EQ(revoked.status(), 401);
}

// A watchdog that obeys: it answers the next command with downloading, applied, confirmed.
int64_t obey_next_command(WsClient& ws) {
  auto c = ws.next_of_type("command", kWait);
  if (!c) return 0;
  const int64_t id = c->at("id").as_int64();
  for (const char* st : {"downloading", "applied", "confirmed"}) {
    ws.send({{"type", "status"}, {"ref", id}, {"state", st}, {"model", c->at("model")}});
  }
  return id;
}

TEST_P(DeviceWsTest, ARolloutOverHttpReachesEveryDeviceThroughItsSession) {
  ASSERT_EQ(send(http::verb::post, "/api/v1/devices", {{"name", "d2"}}).status, 201);
  const std::string token2 = enroll("d2", "w2");
  std::vector<std::unique_ptr<WsClient>> agents;
  for (const auto& t : {token_, token2}) {
    agents.push_back(connect(t));
    ASSERT_TRUE(agents.back()->send(hello(std::pair<std::string, int>{"m", 1})));
    ASSERT_EQ(agents.back()->next(kWait)->at("type"), "welcome");
  }
  for (const char* d : {"d1", "d2"}) {
    ASSERT_EQ(send(http::verb::put, std::string("/api/v1/devices/") + d + "/model",
                   {{"model", "m"}, {"version", 1}})
                  .status,
              200);
  }
  auto user = app_->account("user").second;
  json::object body{{"select", {{"model", "m"}, {"version", 1}}},
                    {"action", "update"},
                    {"target", {{"model", "m"}, {"version", 2}}},
                    {"canary_percent", 50},
                    {"batch_size", 1},
                    {"confirm_s", 0}};
  EXPECT_EQ(
      client_
          ->request(http::verb::post, "/api/v1/rollouts", json::serialize(body),
                    {{"Authorization", "Bearer " + user}, {"Content-Type", "application/json"}})
          .status,
      403);
  auto bad = send(http::verb::post, "/api/v1/rollouts",
                  {{"select", {{"all", true}}}, {"action", "sideways"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("action"), std::string::npos);
  EXPECT_EQ(send(http::verb::post, "/api/v1/rollouts",
                 {{"select", {{"devices", {"d1", "ghost"}}}}, {"action", "blank"}})
                .status,
            404);
  // The preview says what it would cover, and stores nothing.
  auto preview =
      client_->request(http::verb::post, "/api/v1/rollouts/preview", json::serialize(body),
                       {{"Authorization", "Bearer " + user}, {"Content-Type", "application/json"}});
  ASSERT_EQ(preview.status, 200) << preview.body;
  EXPECT_EQ(preview.json(), (json::value{{"target", {{"name", "m"}, {"version", 2}}},
                                         {"devices", 2},
                                         {"skipped", 0},
                                         {"online", 2},
                                         {"waves", {1, 1}},
                                         {"sample", {"d1", "d2"}}}));
  auto to_v1 = body;
  to_v1["target"] = {{"model", "m"}, {"version", 1}};  // both already run it
  EXPECT_EQ(send(http::verb::post, "/api/v1/rollouts/preview", to_v1).json().at("skipped"), 2);
  EXPECT_EQ(send(http::verb::post, "/api/v1/rollouts/preview",
                 {{"select", {{"all", true}}}, {"action", "sideways"}})
                .status,
            422);
  EXPECT_EQ(send(http::verb::post, "/api/v1/rollouts/preview",
                 {{"select", {{"devices", {"ghost"}}}}, {"action", "blank"}})
                .status,
            404);
  EXPECT_EQ(client_->get("/api/v1/rollouts", admin_).json().at("items").as_array().size(), 0u);
  WsClient events(app_->port(), "/api/v1/ws/events", user);
  ASSERT_TRUE(events.ok());
  ASSERT_TRUE(events.send({{"type", "subscribe"}, {"topics", {"rollouts"}}}));
  ASSERT_TRUE(events.next_of_type("subscribed", kWait));
  auto started = send(http::verb::post, "/api/v1/rollouts", body);
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string url = started.header("location");
  // The canary (d1) first, then d2: each agent obeys its command.
  EXPECT_GT(obey_next_command(*agents[0]), 0);
  EXPECT_GT(obey_next_command(*agents[1]), 0);
  json::value rollout;
  for (int i = 0; i < 250; ++i) {
    rollout = client_->get(url, {{"Authorization", "Bearer " + user}}).json();
    if (rollout.at("state") == "completed") break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(rollout.at("state"), "completed") << json::serialize(rollout);
  // Watchers saw it start and complete, live.
  auto first = events.next_of_type("event", kWait);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->at("event").at("state"), "running");
  std::optional<json::object> last;
  bool progress = false;  // an event while running with a device under way: counts move live
  while (auto e = events.next_of_type("event", kWait)) {
    last = e;
    const auto& ev = e->at("event");
    if (ev.at("state") == "running" && ev.at("counts").at("pending") != 2) progress = true;
    if (ev.at("state") == "completed") break;
  }
  ASSERT_TRUE(last);
  EXPECT_TRUE(progress);
  EXPECT_EQ(last->at("topic"), "rollouts");
  EXPECT_EQ(last->at("event").at("counts").at("confirmed"), 2);
  EXPECT_EQ(rollout.at("counts").at("confirmed"), 2);
  EXPECT_EQ(rollout.at("history").as_array().size(), 2u);
  for (const char* d : {"d1", "d2"}) {
    EXPECT_EQ(device(d).at("running"), (json::value{{"name", "m"}, {"version", 2}}));
  }
  auto devices = client_->get(url + "/devices?state=confirmed", admin_);
  ASSERT_EQ(devices.status, 200);
  EXPECT_EQ(devices.json().at("items").as_array().size(), 2u);
  auto listed = client_->get("/api/v1/rollouts?state=completed", admin_);
  ASSERT_EQ(listed.status, 200);
  const json::value items = listed.json().at("items");
  ASSERT_EQ(items.as_array().size(), 1u);
  EXPECT_EQ(items.at(0).at("counts").at("confirmed"), 2);  // counts in the list; no history
  EXPECT_FALSE(items.at(0).as_object().contains("history"));
  EXPECT_EQ(client_->request(http::verb::post, url + "/pause", {}, admin_).status, 409);
  EXPECT_EQ(client_->get("/api/v1/rollouts/99999", admin_).status, 404);
}

// Telemetry streamed over the session (docs/protocol.md "telemetry"): acked with the count once
// stored, read back over HTTP, a resend stored once, refused batches answered with an error
// that keeps the session.
constexpr int64_t kT0 = 1'601'469'000'000;  // 2020-09-30T12:30:00Z

json::object telemetry(const std::string& id, const std::string& sensor, const json::array& pairs) {
  return {{"type", "telemetry"}, {"id", id}, {"sensor", sensor}, {"points", pairs}};
}

class DeviceWsTelemetryTest : public DeviceWsTest {
 protected:
  void SetUp() override {
    DeviceWsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_EQ(send(http::verb::post, "/api/v1/devices", {{"name", "d2"}}).status, 201);
    for (const auto& [name, dev] : {std::pair{"s1", "d1"}, {"s2", "d1"}, {"other", "d2"}}) {
      ASSERT_EQ(send(http::verb::post, "/api/v1/sensors", {{"name", name}, {"device", dev}}).status,
                201);
    }
  }
  // The sensor's points over HTTP, as [at, value] pairs.
  json::array series(const std::string& sensor) {
    auto r = client_->get(
        "/api/v1/sensors/" + sensor + "/series?from=0&to=" + std::to_string(kT0 + 86'400'000),
        admin_);
    EXPECT_EQ(r.status, 200) << r.body;
    json::array out;
    if (r.status != 200) return out;
    const json::value body = r.json();
    for (const auto& p : body.at("points").as_array()) {
      auto at = parse_timestamp(std::string(p.at("at").as_string()));
      out.push_back(json::array{
          std::chrono::duration_cast<std::chrono::milliseconds>(at->time_since_epoch()).count(),
          p.at("value").to_number<double>()});
    }
    return out;
  }
  std::unique_ptr<WsClient> greeted() {
    auto ws = connect(token_);
    EXPECT_TRUE(ws->send(hello(std::nullopt)));
    auto welcome = ws->next(kWait);
    EXPECT_TRUE(welcome && welcome->at("type") == "welcome");
    return ws;
  }
};

TEST_P(DeviceWsTelemetryTest, PointsAreAckedOnceStoredAndReadBackOverHttp) {
  auto ws = connect(token_);
  ASSERT_TRUE(ws->send(telemetry("early", "s1", {{kT0, 1}})));
  auto e = ws->next(kWait);
  ASSERT_TRUE(e);
  EXPECT_EQ(*e,
            (json::object{{"type", "error"}, {"ref", "early"}, {"detail", "send hello first"}}));
  ASSERT_TRUE(ws->send(hello(std::nullopt)));
  ASSERT_EQ(ws->next(kWait)->at("type"), "welcome");

  // Points of several sensors; s1's first point twice (counted once, the later value wins).
  const json::object batch{{"type", "telemetry"},
                           {"id", "t-1"},
                           {"points",
                            {{{"sensor", "s1"}, {"at", kT0}, {"value", 0.5}},
                             {{"sensor", "S1"}, {"at", "2020-09-30T12:40:00Z"}, {"value", 1.5}},
                             {{"sensor", "s2"}, {"at", kT0}, {"value", 7}},
                             {{"sensor", "s1"}, {"at", kT0}, {"value", 1}}}}};
  ASSERT_TRUE(ws->send(batch));
  auto ack = ws->next(kWait);
  ASSERT_TRUE(ack);
  EXPECT_EQ(*ack, (json::object{{"type", "ack"}, {"ref", "t-1"}, {"accepted", 3}}));
  const json::array s1{{kT0, 1.0}, {kT0 + 600'000, 1.5}};
  EXPECT_EQ(series("s1"), s1);
  EXPECT_EQ(series("s2"), (json::array{{kT0, 7.0}}));
  // Sent again (no ack came, say): the same answer, the points stored once.
  ASSERT_TRUE(ws->send(batch));
  ack = ws->next(kWait);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->at("accepted"), 3);
  EXPECT_EQ(series("s1"), s1);
  // One sensor's [at, value] pairs.
  ASSERT_TRUE(ws->send(telemetry("t-2", "s2", {{kT0 + 600'000, 8}, {kT0 + 1'200'000, 9}})));
  ack = ws->next(kWait);
  ASSERT_TRUE(ack);
  EXPECT_EQ(*ack, (json::object{{"type", "ack"}, {"ref", "t-2"}, {"accepted", 2}}));
  EXPECT_EQ(series("s2").size(), 3u);

  // Refused whole, the session goes on: another device's sensor (also beside one of its own),
  // an unknown sensor, a bad point.
  const json::object mixed{{"type", "telemetry"},
                           {"id", "t-3"},
                           {"points",
                            {{{"sensor", "s1"}, {"at", kT0 + 3'600'000}, {"value", 2}},
                             {{"sensor", "other"}, {"at", kT0}, {"value", 2}}}}};
  ASSERT_TRUE(ws->send(mixed));
  e = ws->next(kWait);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->at("type"), "error");
  EXPECT_EQ(e->at("ref"), "t-3");
  EXPECT_EQ(e->at("detail"), "sensor other is not on this watchdog's device");
  ASSERT_TRUE(ws->send(telemetry("t-4", "zz", {{kT0, 1}})));
  e = ws->next(kWait);
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (json::object{{"type", "error"},
                              {"ref", "t-4"},
                              {"detail", "sensor: no sensor named zz (create it first)"}}));
  ASSERT_TRUE(ws->send(telemetry("t-5", "s1", {{kT0, "high"}})));
  e = ws->next(kWait);
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (json::object{{"type", "error"},
                              {"ref", "t-5"},
                              {"detail", "points[0][1]: must be a finite number"}}));
  EXPECT_EQ(series("s1"), s1) << "nothing of the refused batches was stored";
  EXPECT_TRUE(series("other").empty());
  ASSERT_TRUE(ws->send(telemetry("t-6", "s1", {{kT0 + 3'600'000, 3}})));
  ack = ws->next(kWait);
  ASSERT_TRUE(ack);
  EXPECT_EQ(*ack, (json::object{{"type", "ack"}, {"ref", "t-6"}, {"accepted", 1}}));
  EXPECT_EQ(series("s1").size(), 3u);

  // Larger than other messages may be (64 KiB; read on the blocking pool): acked as any other,
  // or refused naming the point; a large message of another type is refused.
  json::array many;
  for (int i = 0; i < 5000; ++i) many.push_back({kT0 + 7'200'000 + i * 1000, i * 0.25});
  ASSERT_GT(json::serialize(telemetry("t-7", "s2", many)).size(), 64u * 1024);
  ASSERT_TRUE(ws->send(telemetry("t-7", "s2", many)));
  ack = ws->next(kWait);
  ASSERT_TRUE(ack);
  EXPECT_EQ(*ack, (json::object{{"type", "ack"}, {"ref", "t-7"}, {"accepted", 5000}}));
  EXPECT_EQ(series("s2").size(), 5003u);
  many[4999] = {kT0, "high"};
  ASSERT_TRUE(ws->send(telemetry("t-8", "s2", many)));
  e = ws->next(kWait);
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (json::object{{"type", "error"},
                              {"ref", "t-8"},
                              {"detail", "points[4999][1]: must be a finite number"}}));
  ASSERT_TRUE(ws->send({{"type", "alarm"},
                        {"id", "a-big"},
                        {"severity", "major"},
                        {"details", {{"pad", std::string(70'000, 'x')}}}}));
  e = ws->next(kWait);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->at("ref"), "a-big");
  EXPECT_EQ(e->at("detail"), "message larger than 65536 bytes (telemetry: 1048576)");
  const std::string metrics = client_->get("/metrics").body;
  EXPECT_NE(metrics.find("vigil_fleet_telemetry_points_total 5009"), std::string::npos);
}

// A device that sends faster than the store takes: beyond 8 unanswered telemetry messages each
// is refused at once ("wait for acks"); the others are acked in the order they came, and the
// session takes more once they are.
TEST_P(DeviceWsTelemetryTest, UnansweredTelemetryIsBoundedPerSession) {
  auto ws = greeted();
  constexpr int kMessages = 40, kPoints = 500;
  // The store is held (a write transaction of the test's, the series table locked on
  // PostgreSQL) while they are sent: no ack can come before all 40 are in, however fast the
  // server stores (an ASan build under load once kept up with the sender).
  Status held = app_->app().database().write([&](store::Session& s) -> Status {
    if (GetParam() == "postgres") {
      VIGIL_RETURN_IF_ERROR(s.exec("LOCK TABLE series_chunks IN EXCLUSIVE MODE").status());
    }
    for (int m = 0; m < kMessages; ++m) {
      json::array pairs;
      for (int i = 0; i < kPoints; ++i) pairs.push_back({kT0 + (m * kPoints + i) * 1000, m});
      if (!ws->send(telemetry("m" + std::to_string(m), "s1", pairs))) {
        return internal_error("send " + std::to_string(m));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all read by the server
    return {};
  });
  ASSERT_TRUE(held.ok()) << held.to_string();
  std::vector<int> acked;
  int refused = 0;
  for (int n = 0; n < kMessages; ++n) {
    auto a = ws->next(kWait);
    ASSERT_TRUE(a) << n;
    const int m = std::stoi(std::string(a->at("ref").as_string()).substr(1));
    if (a->at("type") == "ack") {
      EXPECT_EQ(a->at("accepted"), kPoints);
      acked.push_back(m);
    } else {
      ASSERT_EQ(a->at("type"), "error") << json::serialize(*a);
      EXPECT_EQ(a->at("detail"),
                "more than 8 telemetry messages wait for their ack; wait for acks, then send it "
                "again");
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
  ASSERT_GE(acked.size(), 8u);
  EXPECT_TRUE(std::is_sorted(acked.begin(), acked.end()));
  for (int m = 0; m < 8; ++m) EXPECT_EQ(acked[static_cast<size_t>(m)], m);
  // Exactly the acked messages' points are stored.
  const json::array stored = series("s1");
  ASSERT_EQ(stored.size(), acked.size() * kPoints);
  for (size_t k = 0; k < acked.size(); ++k) {
    EXPECT_EQ(stored[k * kPoints].at(1).as_double(), acked[k]);
  }
  ASSERT_TRUE(ws->send(telemetry("after", "s1", {{kT0 - 1000, 1}})));
  auto after = ws->next(kWait);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->at("type"), "ack") << json::serialize(*after);
}

INSTANTIATE_TEST_SUITE_P(Backends, DeviceWsTelemetryTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Backends, DeviceWsTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigil
