// Alarms over HTTP (API.md "Alarms"): watchdogs report on their own device, admins and users
// list and read, admins acknowledge and clear; on SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "support/http_client.h"
#include "support/test_app.h"
#include "support/ws_client.h"

namespace vigil {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using testing::HttpResult;

class AlarmsTest : public testing::BackendAppTest {
 protected:
  void SetUp() override {
    start_app({}, "alarms");
    if (IsSkipped() || HasFatalFailure()) return;
    auto [admin_id, admin_token] = app_->account("admin");
    admin_id_ = admin_id;
    admin_ = bearer(admin_token);
    user_ = bearer(app_->account("user").second);
    for (const char* device : {"d1", "d2"}) {
      ASSERT_EQ(send(http::verb::post, "/api/v1/devices", {{"name", device}}, admin_).status, 201);
    }
  }
  // A watchdog enrolled on `device` with a code made for it; its headers.
  Headers enroll(const std::string& device, const std::string& name) {
    auto code = send(http::verb::post, "/api/v1/devices/" + device + "/enrollments", json::object{},
                     admin_);
    EXPECT_EQ(code.status, 201) << code.body;
    auto e = send(http::verb::post, "/api/v1/enroll",
                  {{"code", code.json().at("code")}, {"watchdog", name}}, {});
    EXPECT_EQ(e.status, 201) << e.body;
    return bearer(std::string(e.json().at("token").as_string()));
  }
  HttpResult report(const Headers& watchdog, const json::value& body) {
    return send(http::verb::post, "/api/v1/alarms", body, watchdog);
  }
  // The ids a list query answers, in order.
  std::vector<int64_t> ids(const std::string& query) {
    auto r = client_->get("/api/v1/alarms" + query, user_);
    EXPECT_EQ(r.status, 200) << query << " " << r.body;
    std::vector<int64_t> out;
    const json::value page = r.json();
    if (!page.is_object()) return out;
    for (const auto& a : page.at("items").as_array()) out.push_back(a.at("id").as_int64());
    return out;
  }
  static std::set<std::string> fields(const HttpResult& r) { return error_fields(r); }

  int64_t admin_id_ = 0;
  Headers admin_;
  Headers user_;
};

// 50 reports of one open alarm at once, from five watchdogs of one device on as many
// connections: one alarm, count 50, the highest severity reported.
TEST_P(AlarmsTest, ConcurrentReportsFromSeveralWatchdogsMakeOneAlarm) {
  std::vector<Headers> watchdogs;
  for (int i = 0; i < 5; ++i) watchdogs.push_back(enroll("d1", "wd-" + std::to_string(i)));
  std::atomic<bool> go{false};
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      testing::HttpClient client(app_->port());
      Headers h = watchdogs[i % 5];
      h.emplace("Content-Type", "application/json");
      json::value body = {{"id", "report-" + std::to_string(i)},
                          {"severity", i == 17 ? "critical" : "minor"},
                          {"model", {{"name", "leak"}, {"version", 3}}},
                          {"details", {{"level", i}}}};
      while (!go.load()) std::this_thread::yield();
      auto r = client.request(http::verb::post, "/api/v1/alarms", json::serialize(body), h);
      EXPECT_EQ(r.status, 201) << r.body;
      if (r.status == 201) ++created;
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 50);
  auto list = client_->get("/api/v1/alarms", user_);
  ASSERT_EQ(list.status, 200) << list.body;
  const json::value page = list.json();
  const auto& items = page.at("items").as_array();
  ASSERT_EQ(items.size(), 1u) << list.body;
  EXPECT_EQ(items[0].at("count"), 50);
  EXPECT_EQ(items[0].at("severity"), "critical");
  EXPECT_EQ(items[0].at("state"), "active");
  EXPECT_EQ(items[0].at("device"), "d1");
  EXPECT_EQ(items[0].at("source"), "watchdog");
  EXPECT_TRUE(std::string(items[0].at("watchdog").as_string()).starts_with("wd-"));
}

// The alarm's JSON has exactly the contract's members; a resend with the same id is stored once
// and answers the same alarm; another id is counted.
TEST_P(AlarmsTest, AReportIsOneAlarmAndAResendIsStoredOnce) {
  Headers wd = enroll("d1", "wd");
  json::value body = {{"id", "8d0c6f5e-0001"},
                      {"at", "2026-03-01T10:00:00+01:00"},
                      {"severity", "major"},
                      {"sensor", "temp-1"},
                      {"model", {{"name", "Leak"}, {"version", 2}}},
                      {"details", {{"value", 81.5}, {"unit", "C"}}}};
  auto first = report(wd, body);
  ASSERT_EQ(first.status, 201) << first.body;
  const json::object a = first.json().as_object();
  std::set<std::string> keys;
  for (const auto& kv : a) keys.emplace(kv.key());
  EXPECT_EQ(keys,
            (std::set<std::string>{"id", "at", "last_at", "count", "device", "watchdog", "sensor",
                                   "model", "severity", "source", "state", "details", "ack_by",
                                   "ack_at", "cleared_by", "cleared_at"}));
  const std::string id = std::to_string(a.at("id").as_int64());
  EXPECT_EQ(first.header("location"), "/api/v1/alarms/" + id);
  EXPECT_EQ(a.at("at"), "2026-03-01T09:00:00.000Z");
  EXPECT_EQ(a.at("count"), 1);
  EXPECT_EQ(a.at("device"), "d1");
  EXPECT_EQ(a.at("watchdog"), "wd");
  EXPECT_EQ(a.at("sensor"), "temp-1");
  EXPECT_EQ(a.at("model").at("name"), "Leak");
  EXPECT_EQ(a.at("model").at("version"), 2);
  EXPECT_EQ(a.at("details").at("unit"), "C");
  EXPECT_TRUE(a.at("ack_by").is_null());
  EXPECT_TRUE(a.at("cleared_at").is_null());

  auto resent = report(wd, body);
  ASSERT_EQ(resent.status, 201) << resent.body;
  EXPECT_EQ(resent.json().at("id"), a.at("id"));
  EXPECT_EQ(resent.json().at("count"), 1);
  body.as_object()["id"] = "8d0c6f5e-0002";
  body.as_object()["at"] = 1772362800000;  // 2026-03-01T11:00:00Z, in epoch milliseconds
  auto second = report(wd, body);
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(second.json().at("id"), a.at("id"));
  EXPECT_EQ(second.json().at("count"), 2);
  EXPECT_EQ(second.json().at("last_at"), "2026-03-01T11:00:00.000Z");

  auto got = client_->get("/api/v1/alarms/" + id, admin_);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json().at("count"), 2);
  EXPECT_EQ(client_->get("/api/v1/alarms/999999", user_).status, 404);
  EXPECT_EQ(client_->get("/api/v1/alarms/abc", user_).status, 404);
  // Without a sensor or model, and with no time: now, on the watchdog's device.
  auto bare = report(enroll("d2", "wd-2"), {{"severity", "warning"}});
  ASSERT_EQ(bare.status, 201) << bare.body;
  EXPECT_EQ(bare.json().at("device"), "d2");
  EXPECT_TRUE(bare.json().at("model").is_null());
  EXPECT_TRUE(bare.json().at("sensor").is_null());
  EXPECT_EQ(bare.json().at("details"), json::object{});
}

// Admins acknowledge and clear, and the alarm records who and when; a cleared alarm is
// final (409), and the next report of it opens a new one.
TEST_P(AlarmsTest, AcknowledgeAndClearRecordWho) {
  Headers wd = enroll("d1", "wd");
  auto made = report(wd, {{"severity", "minor"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string path = "/api/v1/alarms/" + std::to_string(made.json().at("id").as_int64());
  EXPECT_EQ(send(http::verb::post, path + "/ack", json::object{}, user_).status, 403);
  EXPECT_EQ(send(http::verb::post, path + "/ack", json::object{}, wd).status, 403);
  auto acked = send(http::verb::post, path + "/ack", json::object{}, admin_);
  ASSERT_EQ(acked.status, 200) << acked.body;
  EXPECT_EQ(acked.json().at("state"), "acknowledged");
  EXPECT_EQ(acked.json().at("ack_by"), admin_id_);
  EXPECT_TRUE(acked.json().at("ack_at").is_string());
  EXPECT_TRUE(acked.json().at("cleared_by").is_null());
  // Still open: a report is counted into it.
  auto counted = report(wd, {{"severity", "minor"}});
  EXPECT_EQ(counted.json().at("id"), made.json().at("id"));
  EXPECT_EQ(counted.json().at("state"), "acknowledged");

  auto cleared = client_->request(http::verb::post, path + "/clear", "", admin_);
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_EQ(cleared.json().at("state"), "cleared");
  EXPECT_EQ(cleared.json().at("cleared_by"), admin_id_);
  EXPECT_TRUE(cleared.json().at("cleared_at").is_string());
  EXPECT_EQ(cleared.json().at("ack_by"), admin_id_);
  EXPECT_EQ(client_->request(http::verb::post, path + "/clear", "", admin_).status, 409);
  EXPECT_EQ(client_->request(http::verb::post, path + "/ack", "", admin_).status, 409);
  EXPECT_EQ(client_->request(http::verb::post, "/api/v1/alarms/999999/ack", "", admin_).status,
            404);
  auto reopened = report(wd, {{"severity", "minor"}});
  ASSERT_EQ(reopened.status, 201);
  EXPECT_NE(reopened.json().at("id"), made.json().at("id"));
  EXPECT_EQ(reopened.json().at("count"), 1);
}

TEST_P(AlarmsTest, FiltersSelectAlarmsNewestFirst) {
  Headers wd1 = enroll("d1", "wd-1"), wd2 = enroll("d2", "wd-2");
  auto id_of = [](const HttpResult& r) {
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? r.json().at("id").as_int64() : 0;
  };
  int64_t a = id_of(report(wd1, {{"severity", "minor"},
                                 {"model", {{"name", "Leak"}, {"version", 3}}},
                                 {"at", "2026-01-01T08:00:00Z"}}));
  int64_t b = id_of(report(wd1, {{"severity", "major"},
                                 {"model", {{"name", "leak"}, {"version", 4}}},
                                 {"at", "2026-01-01T10:00:00Z"}}));
  int64_t c = id_of(
      report(wd2, {{"severity", "critical"}, {"sensor", "s1"}, {"at", "2026-01-02T00:00:00Z"}}));
  using Ids = std::vector<int64_t>;
  EXPECT_EQ(ids(""), (Ids{c, b, a}));
  EXPECT_EQ(ids("?device=D2"), (Ids{c}));
  EXPECT_EQ(ids("?model=LEAK"), (Ids{b, a}));
  EXPECT_EQ(ids("?model=leak&version=3"), (Ids{a}));
  EXPECT_EQ(ids("?severity=critical"), (Ids{c}));
  EXPECT_EQ(ids("?state=active&source=watchdog"), (Ids{c, b, a}));
  EXPECT_EQ(ids("?state=cleared"), Ids{});
  EXPECT_EQ(ids("?source=detector"), Ids{});
  EXPECT_EQ(ids("?since=2026-01-01T09:00:00Z"), (Ids{c, b}));
  EXPECT_EQ(ids("?until=2026-01-01T09:00:00Z"), (Ids{a}));
  // since 08:00:00.001Z, in epoch milliseconds: a was last reported a moment before.
  EXPECT_EQ(ids("?since=1767254400001&until=2026-01-01T23:00:00Z"), (Ids{b}));
  EXPECT_EQ(ids("?device=d1&severity=major"), (Ids{b}));

  auto page = client_->get("/api/v1/alarms?limit=2", user_);
  ASSERT_EQ(page.status, 200);
  ASSERT_TRUE(page.json().at("next_cursor").is_string()) << page.body;
  EXPECT_EQ(ids("?limit=2&cursor=" + std::string(page.json().at("next_cursor").as_string())),
            (Ids{a}));
  // A full page has a cursor; the page after the last alarm has none.
  EXPECT_TRUE(client_->get("/api/v1/alarms?limit=4", user_).json().at("next_cursor").is_null());
}

// Every bad filter and every bad field of a report is named.
TEST_P(AlarmsTest, BadValuesAreRefusedNamingTheField) {
  using Fields = std::set<std::string>;
  auto bad_query = [&](const std::string& query) {
    auto r = client_->get("/api/v1/alarms" + query, user_);
    EXPECT_EQ(r.status, 422) << query << " " << r.body;
    return fields(r);
  };
  EXPECT_EQ(bad_query("?state=open"), Fields{"state"});
  EXPECT_EQ(bad_query("?severity=loud"), Fields{"severity"});
  EXPECT_EQ(bad_query("?source=human"), Fields{"source"});
  EXPECT_EQ(bad_query("?version=0&model=m"), Fields{"version"});
  EXPECT_EQ(bad_query("?version=2"), Fields{"version"});  // a version needs its model
  EXPECT_EQ(bad_query("?since=yesterday"), Fields{"since"});
  EXPECT_EQ(bad_query("?until=soon"), Fields{"until"});
  EXPECT_EQ(bad_query("?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z"), Fields{"until"});
  EXPECT_EQ(bad_query("?device=bad%20name"), Fields{"device"});
  EXPECT_EQ(bad_query("?limit=0"), Fields{"limit"});
  EXPECT_EQ(bad_query("?state=open&severity=loud&since=x"), (Fields{"state", "severity", "since"}));

  Headers wd = enroll("d1", "wd");
  auto bad_report = [&](const json::value& body) {
    auto r = report(wd, body);
    EXPECT_EQ(r.status, 422) << json::serialize(body) << " " << r.body;
    return fields(r);
  };
  EXPECT_EQ(bad_report(json::object{}), Fields{"severity"});
  EXPECT_EQ(bad_report({{"severity", "loud"}}), Fields{"severity"});
  EXPECT_EQ(bad_report({{"severity", "minor"}, {"details", json::array{1}}}), Fields{"details"});
  EXPECT_EQ(bad_report({{"severity", "minor"}, {"details", {{"x", std::string(17000, 'x')}}}}),
            Fields{"details"});
  EXPECT_EQ(bad_report({{"severity", "minor"}, {"model", {{"name", "m"}}}}), Fields{"model"});
  EXPECT_EQ(bad_report({{"severity", "minor"}, {"model", {{"name", "m"}, {"version", 0}}}}),
            Fields{"model"});
  EXPECT_EQ(bad_report({{"severity", "minor"}, {"at", "yesterday"}}), Fields{"at"});
  EXPECT_EQ(bad_report({{"severity", "minor"}, {"at", true}}), Fields{"at"});
  EXPECT_EQ(bad_report({{"severity", "minor"}, {"sensor", "bad sensor"}}), Fields{"sensor"});
  EXPECT_EQ(bad_report({{"severity", "minor"}, {"id", ""}}), Fields{"id"});
  EXPECT_EQ(bad_report({{"severity", "minor"}, {"device", "d2"}}), Fields{"device"});
  EXPECT_EQ(bad_report({{"severity", 3}, {"id", 7}}), (Fields{"severity", "id"}));

  json::value huge = {{"severity", "minor"}, {"details", {{"x", std::string(70000, 'x')}}}};
  EXPECT_EQ(report(wd, huge).status, 413);
  EXPECT_EQ(client_
                ->request(http::verb::post, "/api/v1/alarms", "{",
                          [&] {
                            Headers h = wd;
                            h.emplace("Content-Type", "application/json");
                            return h;
                          }())
                .status,
            400);
  EXPECT_EQ(client_->request(http::verb::post, "/api/v1/alarms", "severity=minor", wd).status, 415);
  EXPECT_TRUE(client_->get("/api/v1/alarms", user_).json().at("items").as_array().empty());
}

// Only watchdogs report, and only enrolled ones; only admins and users read.
TEST_P(AlarmsTest, OnlyEnrolledWatchdogsReport) {
  json::value body = {{"severity", "minor"}};
  EXPECT_EQ(report(admin_, body).status, 403);
  EXPECT_EQ(report(user_, body).status, 403);
  EXPECT_EQ(report({}, body).status, 401);
  auto unenrolled = report(bearer(app_->account("watchdog").second), body);
  EXPECT_EQ(unenrolled.status, 403) << unenrolled.body;
  Headers wd = enroll("d1", "wd");
  EXPECT_EQ(client_->get("/api/v1/alarms", wd).status, 403);
  EXPECT_EQ(client_->get("/api/v1/alarms", {}).status, 401);
  ASSERT_EQ(report(wd, body).status, 201);
  // A deleted watchdog's token ends; its alarms stay, without its name.
  ASSERT_EQ(client_->request(http::verb::delete_, "/api/v1/watchdogs/wd", "", admin_).status, 204);
  EXPECT_EQ(report(wd, body).status, 401);
  auto list = client_->get("/api/v1/alarms", admin_);
  ASSERT_EQ(list.json().at("items").as_array().size(), 1u) << list.body;
  EXPECT_TRUE(list.json().at("items").at(0).at("watchdog").is_null());
}

// Reports over REST, acknowledgements and clears reach the events hub's "alarms" topic, as the
// device WebSocket's reports do.
TEST_P(AlarmsTest, ChangesArePublishedOnTheAlarmsTopic) {
  Headers wd = enroll("d1", "wd");
  testing::WsClient events(app_->port(), "/api/v1/ws/events", user_.at("Authorization").substr(7));
  ASSERT_TRUE(events.ok()) << events.error();
  ASSERT_TRUE(events.send({{"type", "subscribe"}, {"topics", {"alarms"}}}));
  ASSERT_TRUE(events.next_of_type("subscribed", std::chrono::seconds(5)));
  auto made = report(wd, {{"severity", "major"}, {"sensor", "temp"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string path = "/api/v1/alarms/" + std::to_string(made.json().at("id").as_int64());
  ASSERT_EQ(client_->request(http::verb::post, path + "/ack", "", admin_).status, 200);
  ASSERT_EQ(client_->request(http::verb::post, path + "/clear", "", admin_).status, 200);
  for (const char* kind : {"reported", "acknowledged", "cleared"}) {
    auto e = events.next_of_type("event", std::chrono::seconds(5));
    ASSERT_TRUE(e) << kind;
    EXPECT_EQ(e->at("topic"), "alarms");
    EXPECT_EQ(e->at("event").at("kind"), kind);
    EXPECT_EQ(e->at("event").at("id"), made.json().at("id"));
    EXPECT_EQ(e->at("event").at("device"), "d1");
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, AlarmsTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigil
