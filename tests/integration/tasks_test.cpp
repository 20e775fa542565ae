// Asynchronous predictions over HTTP (issue 16), on SQLite and PostgreSQL, with the embedded
// queue and the server's own workers: submit → done with each row's prediction and band, the
// cost held then charged once; Idempotency-Key; 402, 404 and 422 at submit; another user's task
// is not theirs to see; cancel while queued releases the hold; task events reach their owner.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>
#include <future>
#include <thread>

#include "support/http_client.h"
#include "support/test_app.h"
#include "support/ws_client.h"

namespace vigil {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;
using testing::HttpResult;

class TasksTest : public testing::BackendAppTest {
 protected:
  void start(const std::string& workers) {
    start_app({{"tasks.workers", workers}, {"tasks.poll_ms", "50"}}, "tasks");
    if (IsSkipped() || HasFatalFailure()) return;
    admin_ = bearer(app_->account("admin").second);
    auto [id, token] = app_->account("user");
    user_id_ = id;
    user_token_ = token;
    user_ = bearer(token);
    other_ = bearer(app_->account("user").second);
    Headers h = admin_;
    h.emplace("Content-Type", "application/octet-stream");
    h.emplace("Vigil-Metadata",
              R"({"features":["x"],"price_per_row":0.5,"bands":[{"below":5,"label":"low",)"
              R"("color":"green"},{"label":"high","color":"red"}]})");
    auto up = client_->request(http::verb::post, "/api/v1/models/risk/versions?kind=linear",
                               R"({"weights":[2],"bias":1,"link":"identity"})", h);
    ASSERT_EQ(up.status, 201) << up.body;
    auto top = send(http::verb::post, "/api/v1/users/" + std::to_string(user_id_) + "/credits",
                    {{"amount", 10}, {"reason", "top-up"}}, admin_);
    ASSERT_EQ(top.status, 201) << top.body;
  }
  HttpResult submit(const json::value& body, Headers who, const std::string& key = {}) {
    if (!key.empty()) who.emplace("Idempotency-Key", key);
    return send(http::verb::post, "/api/v1/tasks", body, who);
  }
  json::value wait_until_finished(int64_t id) {
    json::value t;
    for (int i = 0; i < 250; ++i) {
      t = client_->get("/api/v1/tasks/" + std::to_string(id), user_).json();
      const auto& s = t.at("status");
      if (s != "queued" && s != "running") break;
      std::this_thread::sleep_for(20ms);
    }
    return t;
  }
  json::value credits() { return client_->get("/api/v1/credits", user_).json(); }

  Headers admin_, user_, other_;
  int64_t user_id_ = 0;
  std::string user_token_;
};

class TasksWithWorkersTest : public TasksTest {
 protected:
  void SetUp() override { start("2"); }
};
class TasksWithoutWorkersTest : public TasksTest {
 protected:
  void SetUp() override { start("0"); }
};

TEST_P(TasksWithWorkersTest, ATaskRunsToItsResultAndIsChargedOnce) {
  testing::WsClient events(app_->port(), "/api/v1/ws/events", user_token_);
  ASSERT_TRUE(events.ok());
  ASSERT_TRUE(events.send({{"type", "subscribe"}, {"topics", {"tasks"}}}));
  ASSERT_TRUE(events.next_of_type("subscribed", 5s));

  json::object body{
      {"model", "risk"}, {"rows", {{{"x", 1}}, {{"x", 3}}, {{"x", nullptr}}}}, {"explain", true}};
  auto r = submit(body, user_);
  ASSERT_EQ(r.status, 202) << r.body;
  const int64_t id = r.json().at("id").as_int64();
  EXPECT_EQ(r.header("location"), "/api/v1/tasks/" + std::to_string(id));
  EXPECT_EQ(r.json().at("cost"), 1.5);
  EXPECT_EQ(r.json().at("version"), 1);
  json::value t = wait_until_finished(id);
  ASSERT_EQ(t.at("status"), "done") << json::serialize(t);
  const auto& rows = t.at("result").at("rows").as_array();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].at("prediction").to_number<double>(), 3.0);
  EXPECT_EQ(rows[0].at("band").at("label"), "low");
  EXPECT_EQ(rows[1].at("band").at("label"), "high");  // 7
  EXPECT_TRUE(rows[0].at("contributions").as_object().contains("_bias"));
  EXPECT_EQ(t.at("input").at("rows").as_array().size(), 3u);
  EXPECT_EQ(credits(),
            (json::value{{"user", user_id_}, {"balance", 8.5}, {"held", 0.0}, {"available", 8.5}}));
  auto ledger = client_->get("/api/v1/credits/transactions", user_).json().at("items");
  EXPECT_EQ(ledger.at(0).at("task_id"), id);
  EXPECT_EQ(ledger.at(0).at("amount"), -1.5);

  // The owner heard it queued and done, live.
  bool queued = false, done = false;
  while (auto e = events.next_of_type("event", 5s)) {
    const auto& ev = e->at("event");
    if (ev.at("id") != id) continue;
    queued = queued || ev.at("status") == "queued";
    if (ev.at("status") == "done") {
      done = true;
      break;
    }
  }
  EXPECT_TRUE(queued);
  EXPECT_TRUE(done);

  // Not the other user's: 404, and not in their history; admins see everyone's.
  EXPECT_EQ(client_->get("/api/v1/tasks/" + std::to_string(id), other_).status, 404);
  EXPECT_EQ(client_->get("/api/v1/tasks", other_).json().at("items").as_array().size(), 0u);
  EXPECT_EQ(client_->get("/api/v1/tasks?status=done", admin_).json().at("items").as_array().size(),
            1u);
  EXPECT_EQ(client_->get("/api/v1/tasks?user=" + std::to_string(user_id_), other_).status, 403);
  EXPECT_EQ(client_->get("/api/v1/tasks?status=sideways", user_).status, 422);
}

TEST_P(TasksWithWorkersTest, SubmitsAreCheckedIdempotentAndRefusedWhenShort) {
  json::object one{{"model", "risk"}, {"rows", {{{"x", 1}}}}};
  auto a = submit(one, user_, "order-17");
  auto b = submit(one, user_, "order-17");
  ASSERT_EQ(a.status, 202) << a.body;
  ASSERT_EQ(b.status, 202) << b.body;
  EXPECT_EQ(a.json().at("id"), b.json().at("id"));
  EXPECT_EQ(b.header("idempotent-replayed"), "true");
  json::object other{{"model", "risk"}, {"rows", {{{"x", 2}}}}};
  EXPECT_EQ(submit(other, user_, "order-17").status, 409);

  json::array many;
  for (int i = 0; i < 30; ++i) many.push_back(json::object{{"x", i}});
  auto broke = submit({{"model", "risk"}, {"rows", many}}, user_);
  ASSERT_EQ(broke.status, 402) << broke.body;
  EXPECT_EQ(broke.json().at("cost"), 15.0);
  EXPECT_EQ(submit({{"model", "nope"}, {"rows", {{{"x", 1}}}}}, user_).status, 404);
  auto bad = submit({{"model", "risk"}, {"rows", {{{"y", 1}}}}}, user_);
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("rows[0].y"), std::string::npos) << bad.body;
  EXPECT_EQ(submit({{"model", "risk"}}, user_).status, 422);
  EXPECT_EQ(submit({{"model", "risk"}, {"rows", {{{"x", 1}}}}, {"colour", 1}}, user_).status, 422);
  EXPECT_EQ(wait_until_finished(a.json().at("id").as_int64()).at("status"), "done");
  EXPECT_EQ(credits().at("balance"), 9.5);  // one task, charged once
}

TEST_P(TasksWithoutWorkersTest, AQueuedTaskIsCancelledAndItsHoldReleased) {
  auto r = submit({{"model", "risk"}, {"rows", {{{"x", 1}}, {{"x", 2}}}}}, user_);
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string path = "/api/v1/tasks/" + std::to_string(r.json().at("id").as_int64());
  EXPECT_EQ(credits().at("held"), 1.0);
  EXPECT_EQ(client_->request(http::verb::delete_, path, "", other_).status, 404);
  EXPECT_EQ(client_->request(http::verb::delete_, path, "", user_).status, 204);
  EXPECT_EQ(client_->request(http::verb::delete_, path, "", user_).status, 409);
  EXPECT_EQ(client_->get(path, user_).json().at("status"), "cancelled");
  EXPECT_EQ(credits().at("held"), 0.0);
  EXPECT_EQ(credits().at("balance"), 10.0);
}

// GET …?wait=S answers as soon as the task ends: one request instead of polling.
TEST_P(TasksWithWorkersTest, AReadThatWaitsAnswersWhenTheTaskEnds) {
  auto r = submit({{"model", "risk"}, {"rows", {{{"x", 2}}}}}, user_);
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string path = "/api/v1/tasks/" + std::to_string(r.json().at("id").as_int64());
  auto t = client_->get(path + "?wait=30", user_);
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.json().at("status"), "done");
  EXPECT_EQ(t.json().at("result").at("rows").at(0).at("prediction").to_number<double>(), 5.0);
  EXPECT_EQ(client_->get(path + "?wait=30", user_).json().at("status"), "done");  // ended already
  for (const char* bad : {"61", "-1", "soon", ""}) {
    auto b = client_->get(path + "?wait=" + bad, user_);
    EXPECT_EQ(b.status, 422) << bad;
    EXPECT_NE(b.body.find("wait"), std::string::npos) << b.body;
  }
  EXPECT_EQ(client_->get(path + "?wait=5", other_).status, 404);
}

// With nobody to run it, the wait ends at its deadline with the task as it is.
TEST_P(TasksWithoutWorkersTest, AReadThatWaitsAnswersAtItsDeadline) {
  auto r = submit({{"model", "risk"}, {"rows", {{{"x", 2}}}}}, user_);
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string path = "/api/v1/tasks/" + std::to_string(r.json().at("id").as_int64());
  auto t = client_->get(path + "?wait=1", user_);
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.json().at("status"), "queued");
  // A cancel ends it: a waiting read answers then.
  auto waiting = std::async(std::launch::async, [&] {
    auto c = testing::HttpClient(app_->port());
    return c.get(path + "?wait=30", user_);
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(client_->request(http::verb::delete_, path, "", user_).status, 204);
  auto answered = waiting.get();
  EXPECT_EQ(answered.json().at("status"), "cancelled");
}

INSTANTIATE_TEST_SUITE_P(Backends, TasksWithWorkersTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Backends, TasksWithoutWorkersTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigil
