// What DeviceHub answers on the caller's thread, before any store work: telemetry without a
// telemetry service, and the limit of unanswered telemetry messages per session. The hub is not
// started, so nothing it queues is ever answered (tests/integration/device_ws_test.cpp runs the
// whole protocol against a real server).
#include "fleet/device_hub.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/blocking_pool.h"
#include "support/temp_db.h"
#include "telemetry/telemetry_service.h"

namespace vigil::fleet {
namespace {

namespace json = boost::json;

class RecordingLink final : public DeviceLink {
 public:
  void send(std::string frame) override {
    std::lock_guard lock(mu_);
    frames_.push_back(json::parse(frame).as_object());
  }
  void close(std::string_view) override {}
  std::vector<json::object> frames() {
    std::lock_guard lock(mu_);
    return frames_;
  }

 private:
  std::mutex mu_;
  std::vector<json::object> frames_;
};

std::string telemetry(const std::string& id) {
  return R"({"type":"telemetry","id":")" + id + R"(","sensor":"a","points":[[1000,1]]})";
}

class DeviceHubTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sqlite_.ok()); }

  vigil::testing::MigratedSqlite sqlite_;
  AlarmStore alarms_{*sqlite_.db()};
  ModelSigner signer_ =
      ModelSigner::from_seed_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").value();
  ModelLookup lookup_ = [](std::string_view, std::optional<int64_t>) -> Expected<ModelOffer> {
    return not_found("no models here");
  };
  MetricsRegistry metrics_;
};

TEST_F(DeviceHubTest, TelemetryWithoutATelemetryServiceGetsAnError) {
  DeviceHub hub(*sqlite_.db(), alarms_, signer_, lookup_, metrics_);
  auto link = std::make_shared<RecordingLink>();
  auto session = hub.open(link, 1);
  hub.receive(session, telemetry("t-1"));
  auto frames = link->frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], (json::object{{"type", "error"},
                                     {"ref", "t-1"},
                                     {"detail",
                                      "this server takes no telemetry over the device "
                                      "WebSocket"}}));
}

TEST_F(DeviceHubTest, AtMostMaxTelemetryInFlightMessagesWaitForTheirAnswer) {
  telemetry::SensorStore sensors(*sqlite_.db());
  telemetry::SeriesStore series(*sqlite_.db(), {});
  telemetry::TelemetryService service(sensors, series);
  BlockingPool pool(1, 8, metrics_);
  DeviceHub hub(*sqlite_.db(), alarms_, signer_, lookup_, metrics_, {.max_telemetry_in_flight = 3});
  hub.set_telemetry(&service, &pool);
  auto link = std::make_shared<RecordingLink>();
  auto session = hub.open(link, 1);
  for (int i = 0; i < 5; ++i) hub.receive(session, telemetry("t-" + std::to_string(i)));
  hub.receive(session, R"({"type":"ping"})");
  auto frames = link->frames();
  ASSERT_EQ(frames.size(), 3u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(frames[static_cast<size_t>(i)],
              (json::object{{"type", "error"},
                            {"ref", "t-" + std::to_string(3 + i)},
                            {"detail",
                             "more than 3 telemetry messages wait for their ack; wait for acks, "
                             "then send it again"}}));
  }
  EXPECT_EQ(frames[2], (json::object{{"type", "pong"}})) << "the session goes on";
  // A message larger than kMaxDeviceMessageBytes counts as telemetry before it is read (on the
  // pool), so its refusal has no ref.
  std::string large = R"({"type":"telemetry","id":"big","sensor":"a","points":[)";
  for (int i = 0; large.size() <= kMaxDeviceMessageBytes; ++i) {
    large += (i ? ",[" : "[") + std::to_string(i) + ",1]";
  }
  hub.receive(session, large + "]}");
  frames = link->frames();
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_TRUE(frames[3].at("ref").is_null());
  EXPECT_EQ(frames[3].at("detail").as_string().subview().substr(0, 12), "more than 3 ");
  // Another session has its own limit.
  auto other_link = std::make_shared<RecordingLink>();
  auto other = hub.open(other_link, 2);
  hub.receive(other, telemetry("o-1"));
  EXPECT_TRUE(other_link->frames().empty());
}

}  // namespace
}  // namespace vigil::fleet
