#include "telemetry/ingest_parse.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace vigil::telemetry {
namespace {

namespace json = boost::json;

Expected<std::vector<NamedPoints>> from_json(std::string_view text) {
  return parse_ingest_json(json::parse(text).as_object());
}

TEST(IngestParse, PointsWithSensorsGroupByName) {
  auto r = from_json(R"({"points":[{"sensor":"a","at":"2020-09-30T12:30:00Z","value":1.5},
                                   {"sensor":"b","at":1601469000000,"value":2},
                                   {"sensor":"a","at":1601469600000,"value":-3e2}]})");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].sensor, "a");
  EXPECT_EQ((*r)[0].points, (std::vector<Point>{{1601469000000, 1.5}, {1601469600000, -300}}));
  EXPECT_EQ((*r)[1].points, (std::vector<Point>{{1601469000000, 2}}));
}

TEST(IngestParse, OneSensorsPairs) {
  auto r = from_json(R"({"sensor":"gas-1","points":[[1000,0.25],["1970-01-01T00:00:02Z",7]]})");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].points, (std::vector<Point>{{1000, 0.25}, {2000, 7}}));
}

TEST(IngestParse, BadValuesAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({})", "points"},
      {R"({"points":{}})", "points"},
      {R"({"points":[{"sensor":"a","at":1,"value":"x"}]})", "points[0].value"},
      {R"({"points":[{"sensor":"a","at":"yesterday","value":1}]})", "points[0].at"},
      {R"({"points":[{"sensor":"bad name","at":1,"value":1}]})", "points[0].sensor"},
      {R"({"points":[{"sensor":"a","at":1,"value":1,"unit":"x"}]})", "points[0]"},
      {R"({"points":[1]})", "points[0]"},
      {R"({"points":[], "extra":1})", "extra"},
      {R"({"sensor":"a","points":[[1]]})", "points[0]"},
      {R"({"sensor":"a","points":[[1,null]]})", "points[0][1]"},
      {R"({"sensor":"a","points":[[true,1]]})", "points[0][0]"},
      {R"({"sensor":7,"points":[]})", "sensor"},
  };
  for (const auto& [body, field] : cases) {
    auto r = from_json(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << body;
    EXPECT_EQ(r.status().field(), field) << body;
  }
}

TEST(IngestParse, Csv) {
  auto r =
      parse_ingest_csv("sensor,at,value\r\na,1000,1.5\nb,2020-09-30T12:30:00Z,-2\n\na,2000,3e1");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].points, (std::vector<Point>{{1000, 1.5}, {2000, 30}}));
  EXPECT_EQ((*r)[1].points, (std::vector<Point>{{1601469000000, -2}}));
  EXPECT_TRUE(parse_ingest_csv("")->empty());
  for (const char* bad : {"a,1", "a,1,2,3", "a,x,1", "a,1,nan", "a,1,inf", "a,1,1x", "b c,1,1",
                          "sensor,at,value\nsensor,at,value"}) {
    auto e = parse_ingest_csv(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().field().rfind("line ", 0), 0u) << bad;
  }
  EXPECT_EQ(parse_ingest_csv("a,1,1\na,2,x").status().field(), "line 2");
}

TEST(IngestParse, TooManyPointsAreRefused) {
  std::string csv;
  for (size_t i = 0; i <= kMaxIngestPoints; ++i) csv += "a," + std::to_string(i) + ",1\n";
  EXPECT_EQ(parse_ingest_csv(csv).status().code(), ErrorCode::kResourceExhausted);
}

}  // namespace
}  // namespace vigil::telemetry
