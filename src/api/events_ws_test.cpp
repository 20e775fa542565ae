#include "api/events_ws.h"

#include <gtest/gtest.h>

namespace vigil::api {
namespace {

using Type = EventsRequest::Type;

Status error_of(std::string_view text) {
  auto r = parse_events_request(text);
  EXPECT_FALSE(r.ok()) << text;
  return r.status();
}

TEST(EventsRequestTest, ASubscribeListsTopicsAndMaySaySince) {
  auto r = parse_events_request(
      R"({"type":"subscribe","topics":["alarms","sensor:Pump-1","sensor:*","alarms"],"since":42})");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->type, Type::kSubscribe);
  EXPECT_EQ(r->topics, (std::vector<std::string>{"alarms", "sensor:Pump-1", "sensor:*", "alarms"}));
  EXPECT_EQ(r->topic_set.size(), 3u);
  EXPECT_TRUE(r->topic_set.matches("sensor:pump-7"));
  EXPECT_EQ(r->since, 42u);

  auto live = parse_events_request(R"({"since":null,"topics":[],"type":"subscribe"})");
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  EXPECT_FALSE(live->since);
  EXPECT_TRUE(live->topics.empty());

  auto big =
      parse_events_request(R"({"type":"subscribe","topics":[],"since":18446744073709551615})");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->since, UINT64_MAX);
}

TEST(EventsRequestTest, APingIsAPing) {
  auto r = parse_events_request(R"({"type":"ping"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, Type::kPing);
}

TEST(EventsRequestTest, TextThatIsNoMessageIsMalformed) {
  for (std::string_view bad : {"", "not json", "[]", "42", R"("subscribe")", R"({"type":1})",
                               R"({"topics":[]})", "{\"type\":\"ping\"", "{\"type\":\"\xff\"}"}) {
    EXPECT_EQ(error_of(bad).code(), ErrorCode::kMalformed) << bad;
  }
  std::string deep(100, '[');
  EXPECT_EQ(error_of(R"({"type":"ping","x":)" + deep).code(), ErrorCode::kMalformed);
}

TEST(EventsRequestTest, WrongValuesNameTheirField) {
  struct Case {
    std::string text;
    std::string field;
    std::string in_message;
  };
  std::string too_many = R"({"type":"subscribe","topics":[)";
  for (int i = 0; i < 65; ++i)
    too_many += std::string(i ? "," : "") + "\"sensor:s" + std::to_string(i) + "\"";
  too_many += "]}";
  for (const auto& c : std::vector<Case>{
           {R"({"type":"unsubscribe"})", "type", "'unsubscribe'"},
           {R"({"type":"subscribe"})", "topics", "required"},
           {R"({"type":"subscribe","topics":"alarms"})", "topics", "array"},
           {R"({"type":"subscribe","topics":["alarm"]})", "topics", "'alarm'"},
           {R"({"type":"subscribe","topics":["sensor:a b"]})", "topics", "'sensor:a b'"},
           {R"({"type":"subscribe","topics":[7]})", "topics", "unknown topic 7"},
           {R"({"type":"subscribe","topics":[],"since":-1})", "since", "non-negative"},
           {R"({"type":"subscribe","topics":[],"since":1.5})", "since", "non-negative"},
           {R"({"type":"subscribe","topics":[],"since":"3"})", "since", "non-negative"},
           {R"({"type":"subscribe","topics":[],"sinse":3})", "sinse", "unknown field"},
           {too_many, "topics", "at most 64"},
       }) {
    Status s = error_of(c.text);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_EQ(s.field(), c.field) << c.text;
    EXPECT_NE(s.message().find(c.in_message), std::string::npos) << c.text << " -> " << s.message();
  }
}

TEST(EventsRequestTest, EchoedTextIsCutAtACodePoint) {
  std::string name(63, 'a');
  name += "\xc3\xa9\xc3\xa9";  // "éé": the 64th byte is inside the first é
  Status s = error_of(R"({"type":")" + name + R"("})");
  EXPECT_NE(s.message().find("'" + std::string(63, 'a') + "…'"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace vigil::api
