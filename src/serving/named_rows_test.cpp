#include "serving/named_rows.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cmath>

namespace vigil::serving {
namespace {
namespace json = boost::json;

ResolvedModel model(std::string metadata) {
  ResolvedModel m;
  m.name = "risk";
  m.version = 3;
  m.features = {"age", "bmi"};
  m.feature_index = {{"age", 0}, {"bmi", 1}};
  m.metadata = std::move(metadata);
  return m;
}

TEST(NamedRowsTest, RowsBecomeTheModelsMatrixAndBadNamesAreNamed) {
  auto doc = std::make_shared<const json::value>(
      json::parse(R"({"rows":[{"bmi":2,"age":1},{"age":null},{"x":1,"bmi":"a"}]})"));
  auto rows = named_rows(doc, doc->at("rows"), 10);
  ASSERT_TRUE(rows.ok());
  std::vector<FieldIssue> issues;
  auto m = model("{}");
  auto data = to_matrix(*rows, m, issues);
  ASSERT_EQ(data.size(), 6u);
  EXPECT_EQ(data[0], 1);
  EXPECT_EQ(data[1], 2);
  EXPECT_TRUE(std::isnan(data[2]) && std::isnan(data[3]));
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].field, "rows[2].x");
  EXPECT_EQ(issues[1].message, "must be a number or null");
  EXPECT_FALSE(named_rows(doc, json::value(json::array{}), 10).ok());
  EXPECT_FALSE(named_rows(doc, doc->at("rows"), 2).ok());  // more than max_rows
}

TEST(NamedRowsTest, ATaskResultCarriesEachRowsBandAndContributions) {
  auto m = model(R"({"bands":[{"below":0.3,"label":"low","color":"green"},)"
                 R"({"below":0.7,"label":"mid","color":"amber"},{"label":"high","color":"red"}]})");
  Prediction p{.values = {.shape = {3}, .values = {0.1f, 0.5f, 0.9f}},
               .contributions = runtime::Tensor{.shape = {3, 3},
                                                .values = {0.1f, 0, 0, 0.2f, 0, 0.3f, 0, 0, 0.9f}}};
  json::value r = json::parse(task_result_json(m, p, 3));
  EXPECT_EQ(r.at("model"), "risk");
  EXPECT_EQ(r.at("version"), 3);
  const auto& rows = r.at("rows").as_array();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].at("band"), (json::value{{"label", "low"}, {"color", "green"}}));
  EXPECT_EQ(rows[1].at("band").at("label"), "mid");
  EXPECT_EQ(rows[2].at("band").at("label"), "high");
  EXPECT_DOUBLE_EQ(rows[1].at("contributions").at("_bias").to_number<double>(), 0.3);
  // No bands, or a multi-output row: the band is null.
  auto plain =
      json::parse(task_result_json(model("{}"), {.values = {.shape = {1}, .values = {2}}}, 1));
  EXPECT_TRUE(plain.at("rows").at(0).at("band").is_null());
  EXPECT_FALSE(plain.at("rows").at(0).as_object().contains("contributions"));
  auto multi =
      json::parse(task_result_json(m, {.values = {.shape = {1, 2}, .values = {0.2f, 0.8f}}}, 1));
  EXPECT_TRUE(multi.at("rows").at(0).at("band").is_null());
  EXPECT_EQ(multi.at("rows").at(0).at("prediction").as_array().size(), 2u);
  EXPECT_EQ(band_for(bands_of("not json"), 1), nullptr);
}

}  // namespace
}  // namespace vigil::serving
