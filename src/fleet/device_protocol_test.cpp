#include "fleet/device_protocol.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace vigil::fleet {
namespace {

namespace json = boost::json;
using telemetry::Point;

const TelemetryMessage* telemetry_of(const ParsedDeviceMessage& p) {
  return p.message ? std::get_if<TelemetryMessage>(&*p.message) : nullptr;
}

TEST(DeviceProtocol, TelemetryWithPointsOfSeveralSensors) {
  auto p = parse_device_message(R"({"type":"telemetry","id":"b-1","points":[
      {"sensor":"a","at":"2020-09-30T12:30:00Z","value":1.5},
      {"sensor":"b","at":1601469000000,"value":2},
      {"sensor":"a","at":1601469600000,"value":-3e2}]})");
  const TelemetryMessage* m = telemetry_of(p);
  ASSERT_TRUE(m) << p.error;
  EXPECT_EQ(p.ref_json, R"("b-1")");
  EXPECT_EQ(m->id, "b-1");
  ASSERT_EQ(m->points.size(), 2u);
  EXPECT_EQ(m->points[0].sensor, "a");
  EXPECT_EQ(m->points[0].points, (std::vector<Point>{{1601469000000, 1.5}, {1601469600000, -300}}));
  EXPECT_EQ(m->points[1].sensor, "b");
  EXPECT_EQ(m->points[1].points, (std::vector<Point>{{1601469000000, 2}}));
}

TEST(DeviceProtocol, TelemetryOfOneSensorInPairs) {
  auto p = parse_device_message(
      R"({"points":[[1000,0.25],["1970-01-01T00:00:02Z",7]],"id":"x","sensor":"gas-1",)"
      R"("type":"telemetry"})");
  const TelemetryMessage* m = telemetry_of(p);
  ASSERT_TRUE(m) << p.error;
  ASSERT_EQ(m->points.size(), 1u);
  EXPECT_EQ(m->points[0].sensor, "gas-1");
  EXPECT_EQ(m->points[0].points, (std::vector<Point>{{1000, 0.25}, {2000, 7}}));
  // No points is a message too (its ack accepts 0).
  auto empty = parse_device_message(R"({"type":"telemetry","id":"e","points":[]})");
  ASSERT_TRUE(telemetry_of(empty)) << empty.error;
  EXPECT_TRUE(telemetry_of(empty)->points.empty());
}

TEST(DeviceProtocol, BadTelemetryNamesTheFieldAndKeepsTheRef) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : {
           Case{R"({"type":"telemetry","points":[]})", "id: required"},
           Case{R"({"type":"telemetry","id":"","points":[]})", "id: must not be empty"},
           Case{R"({"type":"telemetry","id":7,"points":[]})", "id: must be a string"},
           Case{R"({"type":"telemetry","id":"t"})", "points: must be an array of points"},
           Case{R"({"type":"telemetry","id":"t","sensor":"a","points":[[1,"high"]]})",
                "points[0][1]: must be a finite number"},
           Case{R"({"type":"telemetry","id":"t","points":[{"sensor":"a","at":"noon","value":1}]})",
                "points[0].at: must be RFC 3339 or epoch milliseconds"},
           Case{R"({"type":"telemetry","id":"t","sensor":"a b","points":[]})", nullptr},
           Case{R"({"type":"telemetry","id":"t","ref":3,"points":[]})", "ref: unknown field"},
       }) {
    auto p = parse_device_message(c.text);
    EXPECT_FALSE(p.message) << c.text;
    if (c.error) {
      EXPECT_EQ(p.error, c.error) << c.text;
    } else {
      EXPECT_EQ(p.error.rfind("sensor: ", 0), 0u) << c.text << " " << p.error;
    }
    if (std::string_view(c.text).find(R"("id":"t")") != std::string_view::npos) {
      EXPECT_EQ(p.ref_json, R"("t")") << c.text;
    }
  }
}

std::string pairs_message(size_t n) {
  std::string text = R"({"type":"telemetry","id":"big","sensor":"a","points":[)";
  for (size_t i = 0; i < n; ++i) text += (i ? ",[" : "[") + std::to_string(i) + ",0]";
  return text + "]}";
}

TEST(DeviceProtocol, TelemetryMayBeLargerThanOtherMessagesButNotWithoutLimit) {
  // Above 64 KiB: telemetry only.
  const std::string big = pairs_message(20'000);
  ASSERT_GT(big.size(), kMaxDeviceMessageBytes);
  ASSERT_LE(big.size(), kMaxTelemetryMessageBytes);
  auto p = parse_device_message(big);
  ASSERT_TRUE(telemetry_of(p)) << p.error;
  EXPECT_EQ(telemetry_of(p)->points.at(0).points.size(), 20'000u);
  std::string alarm = R"({"type":"alarm","id":"a","severity":"major","sensor":")" +
                      std::string(kMaxDeviceMessageBytes, 'x') + "\"}";
  auto refused = parse_device_message(alarm);
  EXPECT_FALSE(refused.message);
  EXPECT_EQ(refused.error.rfind("message larger than 65536 bytes", 0), 0u) << refused.error;
  EXPECT_EQ(refused.ref_json, R"("a")");
  // More points than POST /api/v1/telemetry takes (compact enough to fit in 1 MiB).
  auto many = parse_device_message(pairs_message(telemetry::kMaxIngestPoints + 1));
  EXPECT_FALSE(many.message);
  EXPECT_EQ(many.error, "more than 100000 points in one request");
  EXPECT_EQ(many.ref_json, R"("big")");
  // Above 1 MiB: not even read.
  auto huge = parse_device_message(std::string(kMaxTelemetryMessageBytes + 1, ' '));
  EXPECT_EQ(huge.error, "message larger than 1048576 bytes");
}

TEST(DeviceProtocol, AlarmIdsAreCheckedAsBefore) {
  auto ok = parse_device_message(R"({"type":"alarm","id":"a-1","severity":"minor"})");
  ASSERT_TRUE(ok.message) << ok.error;
  EXPECT_EQ(std::get<AlarmMessage>(*ok.message).id, "a-1");
  auto no_id = parse_device_message(R"({"type":"alarm","severity":"minor"})");
  EXPECT_EQ(no_id.error, "id: required");
  auto long_id = parse_device_message(R"({"type":"alarm","severity":"minor","id":")" +
                                      std::string(129, 'i') + "\"}");
  EXPECT_EQ(long_id.error, "id: too long");
}

TEST(DeviceProtocol, TelemetryAckCarriesTheCount) {
  EXPECT_EQ(json::parse(ack_frame("b-1", 12)),
            (json::value{{"type", "ack"}, {"ref", "b-1"}, {"accepted", 12}}));
  EXPECT_EQ(json::parse(ack_frame("a-1")), (json::value{{"type", "ack"}, {"ref", "a-1"}}));
}

}  // namespace
}  // namespace vigil::fleet
