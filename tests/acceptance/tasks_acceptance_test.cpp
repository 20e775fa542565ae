// Tasks with real `vigil worker` processes (issue 16): a worker SIGKILLed in the middle of a task
// leaves it to another worker, which completes it (on the embedded queue once its lease runs
// out, on RabbitMQ when the broker delivers it again) — done once, charged once; a worker stopped
// with SIGTERM finishes the task it runs, then exits 0; on RabbitMQ, a broker restart in the
// middle of a run loses no task. One `vigil serve` without workers of its own, on SQLite and on
// PostgreSQL, each with the embedded queue and with a real RabbitMQ
// (tests/support/rabbit_server.h); the slow task is 5 000 rows of the breast-cancer model with
// contributions, about half a second.
#include <signal.h>

#include <algorithm>
#include <map>

#include "acceptance/acceptance.h"
#include "support/rabbit_server.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using boost::beast::http::verb;
using namespace std::chrono_literals;
using testing::slurp;

class TasksAcceptanceTest : public testing::AcceptanceTest {
 protected:
  void SetUp() override {
    std::vector<std::pair<std::string, std::string>> settings{{"tasks.workers", "0"},
                                                              {"tasks.lease_s", "1"},
                                                              {"tasks.poll_ms", "100"},
                                                              {"inference.max_rows", "20000"}};
    if (on_rabbit()) {
      VIGIL_RABBIT_SERVER_OR_SKIP(mq);
      mq_ = mq;
      if (!mq_->running()) {
        std::string error;
        ASSERT_TRUE(mq_->restart(&error)) << error;
      }
      static int n = 0;
      settings.push_back({"queue.url", mq_->url()});
      settings.push_back(
          {"queue.name", "acceptance." + std::to_string(::getpid()) + "." + std::to_string(++n)});
      settings.push_back({"queue.sweep_s", "2"});
    }
    set_up(settings);
    if (IsSkipped() || HasFatalFailure()) return;
    const json::value expected =
        json::parse(slurp(fs::path(VIGIL_TEST_DATA_DIR) / "models/breast_cancer.expected.json"));
    json::object metadata{{"features", expected.at("features")}, {"price_per_row", 0.001}};
    auto up = api_->request(verb::post, "/api/v1/models/bc/versions?kind=xgboost",
                            slurp(fs::path(VIGIL_TEST_DATA_DIR) / "models/breast_cancer.ubj"),
                            {{"Content-Type", "application/octet-stream"},
                             {"Vigil-Metadata", json::serialize(metadata)}});
    ASSERT_EQ(up.status, 201) << up.body;
    const auto& names = expected.at("features").as_array();
    const auto& rows = expected.at("rows").as_array();
    for (size_t i = 0; i < 5000; ++i) {
      json::object row;
      const auto& values = rows[i % rows.size()].as_array();
      for (size_t f = 0; f < names.size(); ++f) row[names[f].as_string()] = values[f];
      big_rows_.push_back(std::move(row));
    }
    call(verb::post, "/api/v1/users/1/credits", json::object{{"amount", 100}, {"reason", "test"}});
  }
  void TearDown() override {
    workers_.clear();
    tear_down({"w1", "w2"});
  }

  void start_worker(const std::string& name) {
    std::vector<std::string> args{"worker", "--concurrency", "1"};
    for (auto& a : set_args()) args.push_back(a);
    workers_[name] =
        std::make_unique<testing::ChildProcess>(VIGIL_EXE, args, dir_, dir_ / name, environment());
    ASSERT_TRUE(workers_[name]->started());
  }
  int64_t submit_big() {
    json::value t = call(verb::post, "/api/v1/tasks",
                         json::object{{"model", "bc"}, {"rows", big_rows_}, {"explain", true}});
    return t.is_object() ? t.at("id").as_int64() : 0;
  }
  json::value task(int64_t id) { return call(verb::get, "/api/v1/tasks/" + std::to_string(id)); }
  bool on_rabbit() const { return GetParam().find("+rabbitmq") != std::string::npos; }

  testing::RabbitServer* mq_ = nullptr;
  json::array big_rows_;
  std::map<std::string, std::unique_ptr<testing::ChildProcess>> workers_;
};

TEST_P(TasksAcceptanceTest, AKilledWorkersTaskIsCompletedOnceByAnother) {
  start_worker("w1");
  const int64_t id = submit_big();
  ASSERT_GT(id, 0);
  // Killed as soon as it runs (polling often: the task takes a few hundred ms).
  ASSERT_TRUE(eventually([&] { return task(id).at("status") == "running"; }, 20s, 2ms));
  workers_.at("w1")->signal(SIGKILL);
  ASSERT_TRUE(workers_.at("w1")->wait(5s));
  EXPECT_EQ(task(id).at("status"), "running");  // claimed by a dead worker

  start_worker("w2");
  // One read that waits: answered when w2 (another process) has finished it.
  json::value done = call(verb::get, "/api/v1/tasks/" + std::to_string(id) + "?wait=25");
  ASSERT_EQ(done.at("status"), "done") << json::serialize(done.at("status"));
  EXPECT_EQ(done.at("attempts"), 2);
  EXPECT_EQ(done.at("result").at("rows").as_array().size(), 5000u);
  // Charged once: 5 000 rows at 0.001.
  EXPECT_EQ(call(verb::get, "/api/v1/credits").at("balance"), 95.0);
  json::value ledger = call(verb::get, "/api/v1/credits/transactions");
  int charges = 0;
  for (const auto& e : ledger.at("items").as_array()) charges += e.at("task_id") == id ? 1 : 0;
  EXPECT_EQ(charges, 1);

  // SIGTERM in the middle of a task: it finishes it, then exits 0.
  const int64_t second = submit_big();
  ASSERT_TRUE(eventually([&] { return task(second).at("status") == "running"; }, 20s, 2ms));
  workers_.at("w2")->signal(SIGTERM);
  auto code = workers_.at("w2")->wait(20s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(task(second).at("status"), "done");
  EXPECT_EQ(task(second).at("attempts"), 1);
  EXPECT_EQ(call(verb::get, "/api/v1/credits").at("balance"), 90.0);
}

// RabbitMQ stops (gracefully, as for an upgrade) in the middle of a run and starts again:
// submits meanwhile are accepted (the task is stored; its message waits for the broker),
// /readyz says not ready until the queue is back, and every task is done exactly once.
TEST_P(TasksAcceptanceTest, ABrokerRestartInTheMiddleOfARunLosesNoTask) {
  if (!on_rabbit()) GTEST_SKIP() << "RabbitMQ only";
  start_worker("w1");
  auto probe = client::HttpClient::create(url_);
  ASSERT_TRUE(probe.ok());
  json::array small(big_rows_.begin(), big_rows_.begin() + 50);
  std::vector<int64_t> ids;
  auto submit_some = [&](int n) {
    for (int i = 0; i < n; ++i) {
      json::value t =
          call(verb::post, "/api/v1/tasks", json::object{{"model", "bc"}, {"rows", small}});
      ASSERT_TRUE(t.is_object());
      ids.push_back(t.at("id").as_int64());
    }
  };
  submit_some(20);
  ASSERT_TRUE(mq_->stop());
  ASSERT_TRUE(eventually([&] { return (*probe)->get("/readyz").status == 503; }, 10s));
  submit_some(20);  // stored; published when the broker is back
  std::string error;
  ASSERT_TRUE(mq_->restart(&error)) << error;
  ASSERT_TRUE(eventually([&] { return (*probe)->get("/readyz").status == 200; }, 30s));
  submit_some(20);
  for (int64_t id : ids) {
    ASSERT_TRUE(eventually([&] { return task(id).at("status") == "done"; }, 60s))
        << "task " << id << " is " << json::serialize(task(id).at("status"));
  }
  json::value ledger = call(verb::get, "/api/v1/credits/transactions?limit=200");
  std::map<int64_t, int> charges;
  for (const auto& e : ledger.at("items").as_array()) {
    if (e.at("task_id").is_int64()) ++charges[e.at("task_id").as_int64()];
  }
  for (int64_t id : ids) EXPECT_EQ(charges[id], 1) << "task " << id;
  // 60 tasks of 50 rows at 0.001 each.
  EXPECT_NEAR(call(verb::get, "/api/v1/credits").at("balance").to_number<double>(), 97.0, 1e-9);
}

INSTANTIATE_TEST_SUITE_P(Backends, TasksAcceptanceTest,
                         ::testing::Values("sqlite", "postgres", "sqlite+rabbitmq",
                                           "postgres+rabbitmq"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '+', '_');
                           return name;
                         });

}  // namespace
}  // namespace vigil
