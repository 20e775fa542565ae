// Tasks with real `vigil worker` processes (issue 16): a worker SIGKILLed in the middle of a task
// leaves it to another worker, which completes it once its lease runs out — done once, charged
// once; a worker stopped with SIGTERM finishes the task it runs, then exits 0. One `vigil serve`
// without workers of its own, on SQLite and on PostgreSQL; the task is a slow one (5 000 rows of
// the breast-cancer model with contributions, about half a second).
#include <signal.h>

#include <map>

#include "acceptance/acceptance.h"

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
    set_up({{"tasks.workers", "0"},
            {"tasks.lease_s", "1"},
            {"tasks.poll_ms", "100"},
            {"inference.max_rows", "20000"}});
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

  json::array big_rows_;
  std::map<std::string, std::unique_ptr<testing::ChildProcess>> workers_;
};

TEST_P(TasksAcceptanceTest, AKilledWorkersTaskIsCompletedOnceByAnother) {
  start_worker("w1");
  const int64_t id = submit_big();
  ASSERT_GT(id, 0);
  ASSERT_TRUE(eventually([&] { return task(id).at("status") == "running"; }, 20s));
  workers_.at("w1")->signal(SIGKILL);
  ASSERT_TRUE(workers_.at("w1")->wait(5s));
  EXPECT_EQ(task(id).at("status"), "running");  // claimed by a dead worker

  start_worker("w2");
  ASSERT_TRUE(eventually([&] { return task(id).at("status") == "done"; }, 30s))
      << json::serialize(task(id).at("status"));
  json::value done = task(id);
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
  ASSERT_TRUE(eventually([&] { return task(second).at("status") == "running"; }, 20s));
  workers_.at("w2")->signal(SIGTERM);
  auto code = workers_.at("w2")->wait(20s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(task(second).at("status"), "done");
  EXPECT_EQ(task(second).at("attempts"), 1);
  EXPECT_EQ(call(verb::get, "/api/v1/credits").at("balance"), 90.0);
}

INSTANTIATE_TEST_SUITE_P(Backends, TasksAcceptanceTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigil
