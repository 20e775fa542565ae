// Telemetry with real processes: a `vigil serve` killed with SIGKILL while several clients post
// points has, once restarted, every point it acknowledged (202) — on SQLite and PostgreSQL.
#include <atomic>
#include <csignal>
#include <mutex>
#include <set>

#include "acceptance.h"

namespace vigil::testing {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

class TelemetryAcceptance : public AcceptanceTest {
 protected:
  void SetUp() override { set_up(); }
  void TearDown() override { tear_down(); }
};

TEST_P(TelemetryAcceptance, AKilledServerKeepsEveryPointItAcknowledged) {
  if (IsSkipped() || HasFatalFailure()) return;
  constexpr int kClients = 4, kPoints = 500;
  for (int c = 0; c < kClients; ++c) {
    call(http::verb::post, "/api/v1/sensors", {{"name", "k" + std::to_string(c)}});
  }
  auto login = call(http::verb::post, "/api/v1/auth/login",
                    {{"email", "admin@localhost"}, {"password", kAcceptanceAdminPassword}});
  ASSERT_TRUE(login.is_object());
  const std::string token(login.at("token").as_string());
  std::mutex mu;
  std::vector<int64_t> acknowledged[kClients];  // the first time of each acknowledged batch
  std::atomic<int> batches{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto client = client::HttpClient::create(url_, client::ClientOptions{.token = token});
      if (!client.ok()) return;
      for (int64_t b = 0; !stop; ++b) {
        json::array points;
        for (int i = 0; i < kPoints; ++i) points.push_back(json::array{b * kPoints + i, 0.5 * i});
        auto r = (*client)->request(
            http::verb::post, "/api/v1/telemetry",
            json::serialize(json::object{{"sensor", "k" + std::to_string(c)}, {"points", points}}),
            {{"Content-Type", "application/json"}});
        if (r.status != 202) break;  // the server is gone
        std::lock_guard lock(mu);
        acknowledged[c].push_back(b * kPoints);
        ++batches;
      }
    });
  }
  ASSERT_TRUE(eventually([&] { return batches >= 40; }, std::chrono::seconds(60)));
  server_->signal(SIGKILL);  // while the clients still post
  ASSERT_TRUE(server_->wait(std::chrono::seconds(10)));
  stop = true;
  for (auto& t : clients) t.join();

  start_server();
  ASSERT_FALSE(HasFatalFailure());
  int64_t checked = 0;
  for (int c = 0; c < kClients; ++c) {
    std::set<int64_t> stored;  // the epoch ms of each stored point
    auto raw = call(http::verb::get,
                    "/api/v1/sensors/k" + std::to_string(c) + "/series?from=0&to=100000000");
    ASSERT_TRUE(raw.is_object());
    for (const auto& p : raw.at("points").as_array()) {
      // "1970-01-01THH:MM:SS.mmmZ": the test's times are under a day.
      const std::string at(p.at("at").as_string());
      const int h = std::stoi(at.substr(11, 2)), m = std::stoi(at.substr(14, 2)),
                s = std::stoi(at.substr(17, 2)), f = std::stoi(at.substr(20, 3));
      stored.insert(((h * 60 + m) * 60 + s) * 1000LL + f);
    }
    for (int64_t first : acknowledged[c]) {
      for (int i = 0; i < kPoints; ++i) {
        ASSERT_TRUE(stored.contains(first + i))
            << "sensor k" << c << " lost acknowledged point " << first + i;
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 40 * kPoints);
}

INSTANTIATE_TEST_SUITE_P(Backends, TelemetryAcceptance, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigil::testing
