// Sensors and telemetry over HTTP (API.md "Telemetry and anomaly detection"): admins make
// sensors, admins and watchdogs (for their own device) post points as JSON or CSV, anyone
// signed in reads sensors and series; on SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/json_text.h"
#include "support/http_client.h"
#include "support/test_app.h"
#include "support/ws_client.h"

namespace vigil {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using testing::HttpResult;

constexpr int64_t kT0 = 1'601'469'000'000;  // 2020-09-30T12:30:00Z
constexpr int64_t kStep = 600'000;

class TelemetryTest : public testing::BackendAppTest {
 protected:
  void SetUp() override {
    start_app({}, "telemetry");
    if (IsSkipped() || HasFatalFailure()) return;
    admin_ = bearer(app_->account("admin").second);
    user_ = bearer(app_->account("user").second);
  }
  HttpResult make(const json::value& body) {
    return send(http::verb::post, "/api/v1/sensors", body, admin_);
  }
  HttpResult post_csv(const std::string& csv, Headers h) {
    h.emplace("Content-Type", "text/csv");
    return client_->request(http::verb::post, "/api/v1/telemetry", csv, h);
  }
  HttpResult series(const std::string& name, const std::string& query) {
    return client_->get("/api/v1/sensors/" + name + "/series?" + query, user_);
  }
  static std::set<std::string> fields(const HttpResult& r) { return error_fields(r); }
  static std::string range() {
    return "from=" + std::to_string(kT0) + "&to=" + std::to_string(kT0 + 1000 * kStep);
  }

  Headers admin_, user_;
};

TEST_P(TelemetryTest, SensorsAreMadeListedChangedAndDeleted) {
  auto made = make({{"name", "Gas-1"},
                    {"unit", "ppmv"},
                    {"x", 1.5},
                    {"detector", {{"window", 48}}},
                    {"pinned", true}});
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(made.header("location"), "/api/v1/sensors/Gas-1");
  const json::value s = made.json();
  EXPECT_EQ(s.at("unit"), "ppmv");
  EXPECT_EQ(s.at("y"), nullptr);
  EXPECT_EQ(s.at("detector").at("window"), 48);
  EXPECT_EQ(s.at("detector").at("exclusion"), 24) << "half the window unless given";
  EXPECT_EQ(s.at("detector").at("critical_percent"), 200.0);
  EXPECT_EQ(make({{"name", "gas-1"}}).status, 409);
  EXPECT_EQ(make({{"name", "b"}, {"detector", {{"window", 2}}}}).status, 422);
  EXPECT_EQ(fields(make({{"name", "b"}, {"detector", {{"window", 2}}}})),
            std::set<std::string>{"detector.window"});
  EXPECT_EQ(fields(make({{"name", "b"}, {"device", "nowhere"}})), std::set<std::string>{"device"});
  EXPECT_EQ(fields(make({{"name", "b"}, {"colour", "red"}, {"x", "one"}})),
            (std::set<std::string>{"colour", "x"}));
  EXPECT_EQ(send(http::verb::post, "/api/v1/sensors", {{"name", "u"}}, user_).status, 403);
  ASSERT_EQ(make({{"name", "gas-2"}}).status, 201);

  auto pinned = client_->get("/api/v1/sensors?pinned=true", user_);
  ASSERT_EQ(pinned.status, 200) << pinned.body;
  ASSERT_EQ(pinned.json().at("items").as_array().size(), 1u);
  EXPECT_EQ(pinned.json().at("items").at(0).at("name"), "Gas-1");
  auto page = client_->get("/api/v1/sensors?limit=1", user_);
  ASSERT_EQ(page.status, 200);
  const std::string cursor(page.json().at("next_cursor").as_string());
  auto next = client_->get("/api/v1/sensors?limit=1&cursor=" + cursor, user_);
  EXPECT_EQ(next.json().at("items").at(0).at("name"), "gas-2");

  auto changed = send(http::verb::patch, "/api/v1/sensors/GAS-1",
                      {{"x", nullptr}, {"detector", {{"critical_percent", 300}}}}, admin_);
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(changed.json().at("x"), nullptr);
  EXPECT_EQ(changed.json().at("detector").at("window"), 48) << "other members stay";
  EXPECT_EQ(changed.json().at("detector").at("critical_percent"), 300.0);
  EXPECT_EQ(send(http::verb::patch, "/api/v1/sensors/gas-1",
                 {{"detector", {{"critical_percent", 50}}}}, admin_)
                .status,
            422);

  EXPECT_EQ(client_->request(http::verb::delete_, "/api/v1/sensors/gas-1", {}, admin_).status, 204);
  EXPECT_EQ(client_->get("/api/v1/sensors/gas-1", user_).status, 404);
}

TEST_P(TelemetryTest, PointsArePostedAsJsonOrCsvAndReadBack) {
  ASSERT_EQ(make({{"name", "a"}}).status, 201);
  ASSERT_EQ(make({{"name", "b"}}).status, 201);
  json::array pairs;
  for (int i = 10; i < 20; ++i) pairs.push_back(json::array{kT0 + i * kStep, i * 0.5});
  auto one =
      send(http::verb::post, "/api/v1/telemetry", {{"sensor", "a"}, {"points", pairs}}, admin_);
  ASSERT_EQ(one.status, 202) << one.body;
  EXPECT_EQ(one.json().at("accepted"), 10);
  // Earlier points, one of them twice and one sent again with a new value, and b's.
  json::array points;
  for (int i = 0; i < 10; ++i) {
    points.push_back({{"sensor", "A"}, {"at", kT0 + i * kStep}, {"value", i * 0.5}});
  }
  points.push_back({{"sensor", "a"}, {"at", kT0}, {"value", 0.0}});
  points.push_back({{"sensor", "a"}, {"at", "2020-09-30T14:10:00Z"}, {"value", 99.0}});  // i = 10
  points.push_back({{"sensor", "b"}, {"at", kT0}, {"value", 7}});
  auto many = send(http::verb::post, "/api/v1/telemetry", {{"points", points}}, admin_);
  ASSERT_EQ(many.status, 202) << many.body;
  EXPECT_EQ(many.json().at("accepted"), 12);
  auto csv = post_csv(
      "sensor,at,value\nb,2020-09-30T12:40:00Z,8\r\nb," + std::to_string(kT0 + 2 * kStep) + ",9\n",
      admin_);
  ASSERT_EQ(csv.status, 202) << csv.body;

  auto a = series("a", range());
  ASSERT_EQ(a.status, 200) << a.body;
  const json::value body = a.json();
  const auto& pts = body.at("points").as_array();
  ASSERT_EQ(pts.size(), 20u);
  EXPECT_EQ(pts.at(0).at("at"), "2020-09-30T12:30:00.000Z");
  EXPECT_EQ(pts.at(10).at("value"), 99.0) << "the later value won";
  EXPECT_EQ(pts.at(19).at("value"), 9.5);
  auto b = series("b", range() + "&step=1h&agg=count");
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(b.json().at("buckets").at(0).at("value"), 3.0);
  EXPECT_EQ(b.json().at("buckets").at(0).at("at"), "2020-09-30T12:00:00.000Z");
  auto max = series("a", range() + "&step=30m&agg=max");
  ASSERT_EQ(max.status, 200);
  EXPECT_EQ(max.json().at("buckets").at(1).at("value"), 2.5);   // 13:00-13:30 holds i 3..5
  EXPECT_EQ(max.json().at("buckets").at(3).at("value"), 99.0);  // 14:00-14:30: i 9..11
}

// A value is stored as it was sent, to the last bit, whatever its digits (a JSON reader that is
// 1 ulp off on long mantissas, as Boost.JSON 1.81's own is, would change it; CSV never did).
TEST_P(TelemetryTest, AValueIsStoredToTheLastBit) {
  ASSERT_EQ(make({{"name", "exact"}}).status, 201);
  Headers h = admin_;
  h.emplace("Content-Type", "application/json");
  const std::string body = R"({"sensor":"exact","points":[[)" + std::to_string(kT0) +
                           R"(,8.888888888888889E77],[)" + std::to_string(kT0 + kStep) +
                           R"(,0.30000000000000004]]})";
  auto posted = client_->request(http::verb::post, "/api/v1/telemetry", body, h);
  ASSERT_EQ(posted.status, 202) << posted.body;
  auto read = series("exact", range());
  ASSERT_EQ(read.status, 200) << read.body;
  boost::system::error_code ec;
  const json::value v = parse_json(read.body, ec);
  ASSERT_FALSE(ec) << read.body;
  EXPECT_EQ(v.at("points").at(0).at("value").as_double(), 8.888888888888889E77) << read.body;
  EXPECT_EQ(v.at("points").at(1).at("value").as_double(), 0.30000000000000004) << read.body;
}

TEST_P(TelemetryTest, BadBatchesAreRefusedWhole) {
  ASSERT_EQ(make({{"name", "a"}}).status, 201);
  auto post = [&](const json::value& body) {
    return send(http::verb::post, "/api/v1/telemetry", body, admin_);
  };
  auto unknown = post({{"points",
                        {{{"sensor", "a"}, {"at", kT0}, {"value", 1}},
                         {{"sensor", "zz"}, {"at", kT0}, {"value", 1}}}}});
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(fields(unknown), std::set<std::string>{"sensor"});
  EXPECT_EQ(fields(post({{"sensor", "a"}, {"points", json::array{json::array{kT0, "high"}}}})),
            std::set<std::string>{"points[0][1]"});
  EXPECT_EQ(fields(post({{"sensor", "a"}, {"points", json::array{json::array{"noon", 1}}}})),
            std::set<std::string>{"points[0][0]"});
  EXPECT_EQ(post({{"sensor", "a"}}).status, 422);
  EXPECT_EQ(post_csv("a,1,nan\n", admin_).status, 422);
  EXPECT_EQ(fields(post_csv("a,1,1\na,2\n", admin_)), std::set<std::string>{"line 2"});
  Headers xml = admin_;
  xml.emplace("Content-Type", "application/xml");
  EXPECT_EQ(client_->request(http::verb::post, "/api/v1/telemetry", "<a/>", xml).status, 415);
  std::string big;
  for (int i = 0; i <= 100'000; ++i) big += "a," + std::to_string(i) + ",1\n";
  EXPECT_EQ(post_csv(big, admin_).status, 413);
  EXPECT_EQ(post_csv("a,1,1\n", user_).status, 403);
  // Nothing of the refused batches was stored.
  auto a = series("a", "from=0&to=" + std::to_string(kT0 + kStep));
  ASSERT_EQ(a.status, 200);
  EXPECT_TRUE(a.json().at("points").as_array().empty()) << a.body;

  EXPECT_EQ(fields(series("a", "step=fortnight&agg=median")),
            (std::set<std::string>{"step", "agg"}));
  EXPECT_EQ(fields(series("a", "from=2&to=1")), std::set<std::string>{"from"});
  EXPECT_EQ(fields(series("a", "from=0&to=" + std::to_string(kT0) + "&step=1ms")),
            std::set<std::string>{"step"});
  EXPECT_EQ(series("nope", "").status, 404);
}

// A watchdog posts for the sensors of its own device only.
TEST_P(TelemetryTest, AWatchdogPostsForItsOwnDevicesSensors) {
  for (const char* d : {"d1", "d2"}) {
    ASSERT_EQ(send(http::verb::post, "/api/v1/devices", {{"name", d}}, admin_).status, 201);
  }
  ASSERT_EQ(make({{"name", "on-d1"}, {"device", "d1"}}).status, 201);
  ASSERT_EQ(make({{"name", "on-d2"}, {"device", "d2"}}).status, 201);
  auto code = send(http::verb::post, "/api/v1/devices/d1/enrollments", json::object{}, admin_);
  ASSERT_EQ(code.status, 201) << code.body;
  auto e = send(http::verb::post, "/api/v1/enroll",
                {{"code", code.json().at("code")}, {"watchdog", "wd"}}, {});
  ASSERT_EQ(e.status, 201) << e.body;
  Headers wd = bearer(std::string(e.json().at("token").as_string()));
  EXPECT_EQ(post_csv("on-d1,1000,1\n", wd).status, 202);
  EXPECT_EQ(post_csv("on-d1,2000,1\non-d2,2000,1\n", wd).status, 403);
  EXPECT_EQ(client_->get("/api/v1/sensors", wd).status, 403) << "watchdogs only post";
  auto d1 = client_->get("/api/v1/sensors?device=D1", user_);
  ASSERT_EQ(d1.status, 200);
  ASSERT_EQ(d1.json().at("items").as_array().size(), 1u);
  EXPECT_EQ(d1.json().at("items").at(0).at("device"), "d1");
}

// A leak sensor's real history (tests/data/leak): the first 576 points are learned as the
// baseline (undefined), then levels rise to critical with the leaks and come back to ok; a
// range's levels are those of the whole series at the same points.
TEST_P(TelemetryTest, AnomalyLevelsOfARealLeakSensor) {
  ASSERT_EQ(make({{"name", "leak"}}).status, 201);
  std::ifstream in(std::string(VIGIL_TEST_DATA_DIR) + "/leak/18AIL012A.csv");
  ASSERT_TRUE(in);
  std::string line, csv;
  std::getline(in, line);  // index,Time,Values
  int rows = 0;
  while (std::getline(in, line)) {
    // "7,2020-10-19 13:30:00,42.5": the time as RFC 3339; inf is no reading
    const auto a = line.find(','), b = line.find(',', a + 1);
    std::string at = line.substr(a + 1, b - a - 1), value = line.substr(b + 1);
    if (value.find("inf") != std::string::npos) continue;
    at[10] = 'T';
    csv += "leak," + at + "Z," + value + "\n";
    ++rows;
  }
  ASSERT_GT(rows, 16000);
  auto posted = post_csv(csv, admin_);
  ASSERT_EQ(posted.status, 202) << posted.body;
  EXPECT_EQ(posted.json().at("accepted"), rows);

  const std::string all = "from=2020-01-01T00:00:00Z&to=2022-01-01T00:00:00Z";
  auto r = client_->get("/api/v1/sensors/leak/anomalies?" + all, user_);
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  const json::value whole = r.json();
  const auto& points = whole.at("points").as_array();
  ASSERT_EQ(points.size(), static_cast<size_t>(rows));
  std::map<std::string, int> count;
  for (size_t i = 0; i < points.size(); ++i) {
    const std::string level(points[i].at("level").as_string());
    ++count[level];
    EXPECT_EQ(i < 576, level == "undefined") << i;
    EXPECT_EQ(level == "undefined", points[i].at("percent").is_null()) << i;
    if (level == "critical") {
      EXPECT_GE(points[i].at("percent").as_double(), 200.0) << i;
    } else if (level == "ok") {
      EXPECT_LT(points[i].at("percent").as_double(), 100.0) << i;
    }
  }
  EXPECT_GT(count["ok"], 5000);
  EXPECT_GT(count["critical"], 100);
  EXPECT_GT(count["warning"], 100);

  auto part = client_->get(
      "/api/v1/sensors/leak/anomalies?from=2021-01-15T00:00:00Z&to=2021-01-20T00:00:00Z", user_);
  ASSERT_EQ(part.status, 200);
  const json::value sub = part.json();
  const auto& some = sub.at("points").as_array();
  ASSERT_GT(some.size(), 500u);
  size_t at = 0;
  while (at < points.size() && points[at].at("at") != some[0].at("at")) ++at;
  ASSERT_LT(at + some.size(), points.size());
  for (size_t i = 0; i < some.size(); ++i) {
    EXPECT_EQ(some[i].at("level"), points[at + i].at("level")) << i;
    EXPECT_NEAR(some[i].at("percent").as_double(), points[at + i].at("percent").as_double(), 1e-6);
  }
  EXPECT_EQ(client_->get("/api/v1/sensors/leak/anomalies?from=soon", user_).status, 422);
}

// The leak sensor replayed by `vigil simulate` (a real CLI process) into the server: live
// detection judges each point once it is stored. A subscriber to sensor:<name> gets its recent
// points first, then every point live with the level GET …/anomalies recomputes, and a level
// event at each change; turning critical opens a detector alarm (the sensor is on no device),
// ok again clears it.
TEST_P(TelemetryTest, ALeakReplayedBySimulateGivesLiveLevelsAlarmsAndEvents) {
  using namespace std::chrono_literals;
  ASSERT_EQ(make({{"name", "leak-live"}}).status, 201);
  testing::WsClient ws(app_->port(), "/api/v1/ws/events", app_->account("user").second);
  ASSERT_TRUE(ws.ok()) << ws.error();
  ws.send(json::object{{"type", "subscribe"}, {"topics", {"sensor:leak-live", "alarms"}}});
  ASSERT_TRUE(ws.next_of_type("subscribed", 5s));
  auto first = ws.next(5s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->at("event").at("kind"), "points");
  EXPECT_EQ(first->at("event").at("history"), true);
  EXPECT_TRUE(first->at("event").at("points").as_array().empty()) << "no point yet";

  const auto out = std::filesystem::temp_directory_path() /
                   ("vigil-simulate-" + std::to_string(::getpid()) + "-" + GetParam());
  const std::string cmd =
      "env -u VIGIL_URL -u VIGIL_TOKEN VIGIL_URL=http://127.0.0.1:" + std::to_string(app_->port()) +
      " VIGIL_TOKEN=" + app_->account("admin").second + " " + VIGIL_EXE + " simulate --csv " +
      VIGIL_TEST_DATA_DIR + "/leak/18AIL012A.csv --sensor leak-live --speed max >" + out.string() +
      " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream said(out);
  std::string words((std::istreambuf_iterator<char>(said)), {});
  std::filesystem::remove(out);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << words;
  const size_t rows = std::stoul(words.substr(words.find("sent ") + 5));
  ASSERT_GT(rows, 16000u) << words;

  // What arrives live, until every point has.
  std::map<std::string, std::string> live;  // at -> level
  std::vector<json::object> changes, alarms;
  while (live.size() < rows) {
    auto f = ws.next(20s);
    ASSERT_TRUE(f) << live.size() << " of " << rows << " points arrived";
    const json::object& e = f->at("event").as_object();
    if (f->at("topic") == "alarms") {
      alarms.push_back(e);
    } else if (e.at("kind") == "level") {
      changes.push_back(e);
    } else {
      EXPECT_EQ(e.at("history"), false);
      for (const auto& p : e.at("points").as_array()) {
        live[std::string(p.at("at").as_string())] = std::string(p.at("level").as_string());
      }
    }
  }
  // The recomputed levels are the live ones, and each change is told once.
  auto r = client_->get(
      "/api/v1/sensors/leak-live/anomalies?from=2020-01-01T00:00:00Z&to=2022-01-01T00:00:00Z",
      user_);
  ASSERT_EQ(r.status, 200);
  const json::value whole = r.json();
  std::string previous = "undefined";
  size_t changed = 0, i = 0;
  for (const auto& p : whole.at("points").as_array()) {
    const std::string at(p.at("at").as_string()), level(p.at("level").as_string());
    ASSERT_EQ(live[at], level) << at;
    if (level != previous) {
      ASSERT_LT(changed, changes.size());
      EXPECT_EQ(changes[changed].at("at").as_string(), at);
      EXPECT_EQ(changes[changed].at("level").as_string(), level);
      EXPECT_EQ(changes[changed].at("previous").as_string(), previous);
      ++changed;
    }
    previous = level;
    ++i;
  }
  EXPECT_EQ(i, rows);
  EXPECT_EQ(changed, changes.size());
  EXPECT_GT(changed, 4u);

  // Alarms opened and cleared: by the events (sent before the points of their batch), and as
  // stored.
  std::set<std::string> kinds;
  for (const auto& a : alarms) {
    EXPECT_EQ(a.at("sensor"), "leak-live");
    EXPECT_TRUE(a.at("device").is_null());
    kinds.insert(std::string(a.at("kind").as_string()));
  }
  EXPECT_TRUE(kinds.count("reported") && kinds.count("cleared")) << alarms.size();
  auto list = client_->get("/api/v1/alarms?source=detector&sensor=leak-live", user_);
  ASSERT_EQ(list.status, 200) << list.body;
  const json::value stored = list.json();
  size_t cleared = 0;
  for (const auto& a : stored.at("items").as_array()) {
    EXPECT_EQ(a.at("severity"), "critical");
    EXPECT_TRUE(a.at("device").is_null());
    EXPECT_EQ(a.at("sensor"), "leak-live");
    if (a.at("state") == "cleared") {
      ++cleared;
      EXPECT_TRUE(a.at("cleared_by").is_null()) << "cleared by the server";
    }
  }
  EXPECT_GE(cleared, 1u) << list.body;
  EXPECT_EQ(
      client_->get("/api/v1/alarms?sensor=no-such", user_).json().at("items").as_array().size(),
      0u);

  // A later subscriber gets the last 144 points first.
  testing::WsClient late(app_->port(), "/api/v1/ws/events", app_->account("user").second);
  late.send(json::object{{"type", "subscribe"}, {"topics", {"sensor:LEAK-LIVE"}}});
  ASSERT_TRUE(late.next_of_type("subscribed", 5s));
  auto recent = late.next(5s);
  ASSERT_TRUE(recent);
  const auto& points = recent->at("event").at("points").as_array();
  ASSERT_EQ(points.size(), 144u);
  EXPECT_EQ(points.back().at("at"), whole.at("points").as_array().back().at("at"));
  late.send(json::object{{"type", "subscribe"}, {"topics", {"sensor:nope"}}});
  ASSERT_TRUE(late.next_of_type("subscribed", 5s));
  auto none = late.next(5s);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->at("type"), "error");
}

// The baseline library over HTTP: the seeds are there, admins upload values or cut a sensor's
// history, anyone reads; a sensor's baseline is selected from the library (each candidate's
// verdict said), set, augmented, each change in its history and told on the system topic.
TEST_P(TelemetryTest, BaselinesAreUploadedCutSelectedSetAndAugmented) {
  using namespace std::chrono_literals;
  auto listed = client_->get("/api/v1/baselines", user_);
  ASSERT_EQ(listed.status, 200) << listed.body;
  std::set<std::string> seeds;
  const json::value library = listed.json();
  for (const auto& b : library.at("items").as_array()) {
    EXPECT_EQ(b.at("source"), "seed");
    EXPECT_FALSE(b.as_object().contains("values"));
    seeds.insert(std::string(b.at("name").as_string()));
  }
  EXPECT_EQ(seeds, (std::set<std::string>{"leak-18AIL012A", "leak-18AIJ012B", "leak-19H-QI-2272"}));

  // A sensor with two weeks of a daily wave.
  ASSERT_EQ(make({{"name", "wave"}}).status, 201);
  json::array points;
  for (int i = 0; i < 2100; ++i) {
    points.push_back(json::array{
        kT0 + i * kStep,
        std::round((50 + 10 * std::sin(i * 2 * M_PI / 144) + ((i * 7919) % 13) * 0.1) * 10) / 10});
  }
  ASSERT_EQ(send(http::verb::post, "/api/v1/telemetry",
                 json::object{{"sensor", "wave"}, {"points", points}}, admin_)
                .status,
            202);

  json::array values;
  for (int i = 0; i < 1500; ++i)
    values.push_back(50 + 10 * std::sin(i * 2 * M_PI / 144) + (i % 7) * 0.15);
  auto up = send(http::verb::post, "/api/v1/baselines",
                 json::object{{"name", "daily"}, {"values", values}}, admin_);
  ASSERT_EQ(up.status, 201) << up.body;
  EXPECT_EQ(up.json().at("points"), 1500);
  EXPECT_EQ(up.json().at("source"), "upload");
  EXPECT_EQ(send(http::verb::post, "/api/v1/baselines",
                 json::object{{"name", "daily"}, {"values", values}}, admin_)
                .status,
            409);
  EXPECT_EQ(send(http::verb::post, "/api/v1/baselines",
                 json::object{{"name", "x"}, {"values", values}}, user_)
                .status,
            403);
  EXPECT_EQ(fields(send(http::verb::post, "/api/v1/baselines",
                        json::object{{"name", "x"}, {"values", {1, 2}}}, admin_)),
            std::set<std::string>{"values"});
  EXPECT_EQ(fields(send(http::verb::post, "/api/v1/baselines",
                        json::object{{"name", "x"}, {"values", {1, "a"}}}, admin_)),
            std::set<std::string>{"values"});
  EXPECT_EQ(fields(send(http::verb::post, "/api/v1/baselines",
                        json::object{{"name", "x"}, {"sensor", "wave"}}, admin_)),
            (std::set<std::string>{"from", "to"}));
  EXPECT_EQ(
      fields(send(http::verb::post, "/api/v1/baselines", json::object{{"name", "x"}}, admin_)),
      std::set<std::string>{"values"});
  EXPECT_EQ(
      fields(send(http::verb::post, "/api/v1/baselines",
                  json::object{{"name", "x"}, {"sensor", "nope"}, {"from", 0}, {"to", 1}}, admin_)),
      std::set<std::string>{"sensor"});
  auto cut = send(
      http::verb::post, "/api/v1/baselines",
      json::object{
          {"name", "wave-week"}, {"sensor", "wave"}, {"from", kT0}, {"to", "2020-10-07T12:30:00Z"}},
      admin_);
  ASSERT_EQ(cut.status, 201) << cut.body;
  EXPECT_EQ(cut.json().at("sensor"), "wave");
  EXPECT_EQ(cut.json().at("removed"), 3);
  auto one = client_->get("/api/v1/baselines/daily", user_);
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.json().at("values").as_array().size(), 1500u);
  EXPECT_EQ(client_->get("/api/v1/baselines/nope", user_).status, 404);

  // The sensor learns its own until one is chosen.
  auto before = client_->get("/api/v1/sensors/wave/baseline", user_);
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_TRUE(before.json().at("current").is_null());

  testing::WsClient ws(app_->port(), "/api/v1/ws/events", app_->account("user").second);
  ws.send(json::object{{"type", "subscribe"}, {"topics", {"system"}}});
  ASSERT_TRUE(ws.next_of_type("subscribed", 5s));

  auto selected =
      send(http::verb::post, "/api/v1/sensors/wave/baseline/select", json::object{}, admin_);
  ASSERT_EQ(selected.status, 200) << selected.body;
  const json::value sel = selected.json();
  EXPECT_EQ(sel.at("selected"), true) << selected.body;
  EXPECT_EQ(sel.at("candidates").as_array().size(), 5u);
  bool some_refused = false;
  for (const auto& c : sel.at("candidates").as_array()) {
    if (c.at("fits") == false) {
      some_refused = true;
      EXPECT_FALSE(c.at("why").as_string().empty());
    }
  }
  EXPECT_TRUE(some_refused) << "the leak seeds do not fit a daily wave";
  const std::string chosen(sel.at("current").at("baseline").as_string());
  EXPECT_TRUE(chosen == "daily" || chosen == "wave-week") << selected.body;
  auto told = ws.next_of_type("event", 5s);
  ASSERT_TRUE(told);
  EXPECT_EQ(told->at("event").at("kind"), "baseline");
  EXPECT_EQ(told->at("event").at("action"), "select");
  EXPECT_EQ(told->at("event").at("sensor"), "wave");

  auto set = send(http::verb::put, "/api/v1/sensors/wave/baseline",
                  json::object{{"baseline", "daily"}}, admin_);
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.json().at("action"), "set");
  EXPECT_EQ(fields(send(http::verb::put, "/api/v1/sensors/wave/baseline",
                        json::object{{"baseline", "nope"}}, admin_)),
            std::set<std::string>{"baseline"});
  EXPECT_EQ(send(http::verb::put, "/api/v1/sensors/nope/baseline",
                 json::object{{"baseline", "daily"}}, admin_)
                .status,
            404);
  auto augmented =
      send(http::verb::post, "/api/v1/sensors/wave/baseline/augment", json::object{}, admin_);
  ASSERT_EQ(augmented.status, 200) << augmented.body;
  EXPECT_GT(augmented.json().at("points").as_int64(), 1500);
  EXPECT_EQ(send(http::verb::post, "/api/v1/sensors/wave/baseline/augment", json::object{}, admin_)
                .status,
            409)
      << "nothing new since";
  auto after = client_->get("/api/v1/sensors/wave/baseline", user_);
  ASSERT_EQ(after.status, 200);
  const json::value view = after.json();
  EXPECT_EQ(view.at("current").at("action"), "augment");
  ASSERT_EQ(view.at("history").as_array().size(), 3u);
  EXPECT_EQ(view.at("history").at(2).at("action"), "select");

  // Levels are now measured against it: defined from the first point.
  auto levels = client_->get("/api/v1/sensors/wave/anomalies?from=" + std::to_string(kT0) +
                                 "&to=" + std::to_string(kT0 + 10 * kStep),
                             user_);
  ASSERT_EQ(levels.status, 200);
  EXPECT_NE(levels.json().at("points").at(5).at("level"), "undefined");

  EXPECT_EQ(client_->request(http::verb::delete_, "/api/v1/baselines/daily", "", admin_).status,
            204);
  EXPECT_EQ(client_->request(http::verb::delete_, "/api/v1/baselines/daily", "", admin_).status,
            404);
}

INSTANTIATE_TEST_SUITE_P(Backends, TelemetryTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigil
