#include "agent/active_model.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/ids.h"

namespace vigil::agent {
namespace {

namespace json = boost::json;

std::string slurp(const std::string& relative) {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/tests/data/" + relative, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class ActiveModelTest : public ::testing::Test {
 protected:
  InstalledModel bc(const std::string& metadata) {
    return {.name = "bc",
            .version = 1,
            .sha256 = sha256_hex(model_),
            .kind = "xgboost",
            .metadata = metadata};
  }
  std::unique_ptr<runtime::RuntimeRegistry> runtimes_ = runtime::default_runtimes();
  std::string model_ = slurp("models/breast_cancer.json");
  json::value expected_ = json::parse(slurp("models/breast_cancer.expected.json"));
};

std::vector<float> row_of(const json::value& row) {
  std::vector<float> out;
  for (const auto& v : row.as_array()) {
    out.push_back(v.is_null() ? NAN : static_cast<float>(v.to_number<double>()));
  }
  return out;
}

TEST_F(ActiveModelTest, ScoresRowsAsTheXgboostPackageAndAlarmsAtTheThreshold) {
  auto active = activate(*runtimes_, bc(R"({"alarm_threshold":0.5})"), model_);
  ASSERT_TRUE(active.ok()) << active.status().detail();
  ASSERT_EQ((*active)->alarm_threshold, 0.5);
  const auto& rows = expected_.at("rows").as_array();
  const auto& predictions = expected_.at("predictions").as_array();
  int alarms = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    auto s = score(**active, row_of(rows[i]));
    ASSERT_TRUE(s.ok()) << s.status().detail();
    const double want = predictions[i].to_number<double>();
    EXPECT_NEAR(*s, want, 1e-5);
    EXPECT_EQ(raises_alarm(**active, *s), want >= 0.5);
    alarms += raises_alarm(**active, *s);
  }
  EXPECT_GT(alarms, 0);
  EXPECT_EQ((*active)->failures.load(), 0u);
}

TEST_F(ActiveModelTest, WithoutAThresholdNothingAlarms) {
  auto active = activate(*runtimes_, bc("{}"), model_);
  ASSERT_TRUE(active.ok());
  EXPECT_FALSE((*active)->alarm_threshold);
  EXPECT_FALSE(raises_alarm(**active, 1.0));
}

TEST_F(ActiveModelTest, TheBlankModelNeverAlarmsWhateverItsMetadataSays) {
  InstalledModel blank{.name = "blank",
                       .version = 1,
                       .sha256 = sha256_hex(""),
                       .kind = "blank",
                       .metadata = R"({"alarm_threshold":-1})"};
  auto active = activate(*runtimes_, blank, "");
  ASSERT_TRUE(active.ok()) << active.status().detail();
  EXPECT_FALSE((*active)->alarm_threshold);
  const std::vector<float> row{1, 2, 3};
  auto s = score(**active, row);  // any width
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(raises_alarm(**active, *s));
}

TEST_F(ActiveModelTest, WhatActivateRefuses) {
  auto unknown = bc("{}");
  unknown.kind = "onnx";
  EXPECT_EQ(activate(*runtimes_, unknown, model_).status().message(),
            "this agent has no runtime for kind 'onnx'");
  auto bad = activate(*runtimes_, bc("{}"), model_.substr(0, model_.size() / 2));
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("does not load"), std::string::npos);
  EXPECT_EQ(activate(*runtimes_, bc("[1]"), model_).status().message(),
            "the metadata is not a JSON object");
  // A probe of the wrong width, or one that is not numbers.
  auto probe = activate(*runtimes_, bc(R"({"probe":[1,2]})"), model_);
  EXPECT_NE(probe.status().message().find("the probe row fails"), std::string::npos);
  EXPECT_EQ(activate(*runtimes_, bc(R"({"probe":["x"]})"), model_).status().message(),
            "metadata.probe must be an array of numbers");
  // A given probe of the right width, with a missing value, passes.
  json::array good(30, json::value(1.0));
  good[3] = nullptr;
  EXPECT_TRUE(
      activate(*runtimes_, bc(json::serialize(json::object{{"probe", good}})), model_).ok());
}

TEST_F(ActiveModelTest, RowsOfTheWrongWidthAreRefusedWithoutCountingAsFailures) {
  auto active = activate(*runtimes_, bc("{}"), model_);
  ASSERT_TRUE(active.ok());
  const std::vector<float> short_row{1, 2};
  auto s = score(**active, short_row);
  EXPECT_EQ(s.status().message(), "a row of 2 values; the model takes 30");
  EXPECT_EQ((*active)->failures.load(), 0u);
}

}  // namespace
}  // namespace vigil::agent
