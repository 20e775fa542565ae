// The xgboost runtime against the xgboost package's own outputs (Q2), bad files, thread-safety.
#include "runtime/xgboost/xgboost_runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <thread>

#include "runtime/test_util.h"

namespace vigil::runtime {
namespace {

using testing::data_path;
using testing::json_object;
using testing::read_file;

// A model's *.expected.json: 64 rows (null = missing), predictions, contributions.
struct Expected64 {
  size_t features = 0;
  size_t rows = 0;
  std::vector<float> data;
  std::vector<double> predictions;
  std::vector<double> contributions;  // rows × (features + 1)
  boost::json::array feature_names;
};

Expected64 read_expected(const std::string& name) {
  Expected64 e;
  auto root = json_object(read_file(data_path("models/" + name + ".expected.json")));
  e.feature_names = root.at("features").as_array();
  e.features = e.feature_names.size();
  for (const auto& row : root.at("rows").as_array()) {
    for (const auto& v : row.as_array()) {
      e.data.push_back(v.is_null() ? std::numeric_limits<float>::quiet_NaN()
                                   : static_cast<float>(v.to_number<double>()));
    }
    ++e.rows;
  }
  for (const auto& v : root.at("predictions").as_array()) {
    e.predictions.push_back(v.to_number<double>());
  }
  for (const auto& row : root.at("contributions").as_array()) {
    for (const auto& v : row.as_array()) e.contributions.push_back(v.to_number<double>());
  }
  return e;
}

std::unique_ptr<LoadedModel> load_model(const std::string& file,
                                        const boost::json::object& metadata = {}) {
  auto model = XgboostRuntime().load(read_file(data_path("models/" + file)), metadata);
  EXPECT_TRUE(model.ok()) << file << ": " << model.status().to_string();
  return model.ok() ? std::move(*model) : nullptr;
}

double max_abs_diff(const std::vector<float>& got, const std::vector<double>& want) {
  double worst = 0;
  for (size_t i = 0; i < got.size() && i < want.size(); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(got[i]) - want[i]));
  }
  return worst;
}

class XgboostQualityTest : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

// Q2: predictions and contributions equal the xgboost package's to 1e-5.
TEST_P(XgboostQualityTest, MatchesTheXgboostPackage) {
  const std::string name = GetParam().first;
  const std::string format = GetParam().second;
  Expected64 e = read_expected(name);
  ASSERT_EQ(e.rows, 64u);
  ASSERT_EQ(e.predictions.size(), e.rows);
  ASSERT_EQ(e.contributions.size(), e.rows * (e.features + 1));
  boost::json::object metadata;
  metadata["features"] = e.feature_names;
  auto model = load_model(name + "." + format, metadata);
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->num_features(), e.features);
  EXPECT_TRUE(model->row_output_shape().empty());
  EXPECT_GT(model->memory_bytes(), 0u);

  auto predictions = model->predict(e.data, e.rows);
  ASSERT_TRUE(predictions.ok()) << predictions.status().to_string();
  EXPECT_EQ(predictions->shape, (std::vector<int64_t>{64}));
  const double prediction_diff = max_abs_diff(predictions->values, e.predictions);

  auto contributions = model->explain(e.data, e.rows);
  ASSERT_TRUE(contributions.ok()) << contributions.status().to_string();
  EXPECT_EQ(contributions->shape, (std::vector<int64_t>{64, static_cast<int64_t>(e.features + 1)}));
  const double contribution_diff = max_abs_diff(contributions->values, e.contributions);

  std::printf("[ Q2       ] %s.%s: max |Δ| predictions %.3g, contributions %.3g\n", name.c_str(),
              format.c_str(), prediction_diff, contribution_diff);
  RecordProperty("max_abs_diff_predictions", std::to_string(prediction_diff));
  RecordProperty("max_abs_diff_contributions", std::to_string(contribution_diff));
  EXPECT_LE(prediction_diff, 1e-5);
  EXPECT_LE(contribution_diff, 1e-5);

  // One row at a time gives the same numbers as the batch.
  for (size_t r = 0; r < e.rows; r += 21) {
    std::span<const float> row(e.data.data() + r * e.features, e.features);
    auto one = model->predict(row, 1);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->values[0], predictions->values[r]);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, XgboostQualityTest,
                         ::testing::Values(std::pair{"breast_cancer", "json"},
                                           std::pair{"breast_cancer", "ubj"},
                                           std::pair{"diabetes", "json"},
                                           std::pair{"diabetes", "ubj"}));

void expect_rejected(std::string_view bytes, const std::string& what,
                     const boost::json::object& metadata = {}) {
  auto model = XgboostRuntime().load(bytes, metadata);
  ASSERT_FALSE(model.ok()) << what;
  EXPECT_EQ(model.status().code(), ErrorCode::kInvalidArgument) << what;
  const std::string& m = model.status().message();
  EXPECT_FALSE(m.empty()) << what;
  EXPECT_LT(m.size(), 400u) << what << ": " << m;
  EXPECT_EQ(m.find("Stack trace"), std::string::npos) << what << ": " << m;
  EXPECT_EQ(m.find(".cc:"), std::string::npos) << what << ": " << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << what << ": " << m;
  EXPECT_TRUE(std::all_of(m.begin(), m.end(), [](char c) { return c >= 0x20 && c <= 0x7e; }))
      << what << ": " << m;
  std::printf("[ rejected ] %s: %s\n", what.c_str(), m.c_str());
}

TEST(XgboostRuntimeTest, BadFilesAreRejectedWithAReason) {
  const std::string json = read_file(data_path("models/diabetes.json"));
  expect_rejected("", "empty");
  expect_rejected(" \n\t ", "whitespace");
  expect_rejected(json.substr(0, json.size() / 2), "truncated JSON");
  expect_rejected(json.substr(0, json.size() - 1), "JSON without its last brace");
  // Truncated UBJ and UBJ-looking noise make libxgboost 1.7.4 read past the end of the buffer:
  // those are tested through the child process only (isolated_check_test.cpp), as uploads are.
  expect_rejected(R"({"a":1})", "JSON that is not a model");
  expect_rejected(R"({"learner":{}})", "JSON with an empty learner");
  expect_rejected("[1,2,3]", "JSON array");
  expect_rejected("binf\x00\x00\x00", "old binary header");
  std::mt19937 rng(42);
  for (int i = 0; i < 20; ++i) {
    std::string noise(1 + rng() % 4096, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    // Past the first-byte check into libxgboost: its JSON reader, and its format check.
    if (i % 3 == 1) noise.replace(0, std::min<size_t>(2, noise.size()), "{\"");
    if (i % 3 == 2) noise.replace(0, std::min<size_t>(2, noise.size()), "{#");
    expect_rejected(noise, "random bytes #" + std::to_string(i));
  }
}

TEST(XgboostRuntimeTest, MetadataFeatureCountMustMatchTheModel) {
  boost::json::object metadata;
  metadata["features"] = boost::json::array(29, "f");
  auto model = XgboostRuntime().load(read_file(data_path("models/breast_cancer.json")), metadata);
  ASSERT_EQ(model.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("29"), std::string::npos) << model.status().message();
  EXPECT_NE(model.status().message().find("30"), std::string::npos) << model.status().message();
  expect_rejected(read_file(data_path("models/breast_cancer.json")), "features not an array",
                  json_object(R"({"features":"all"})"));
}

TEST(XgboostRuntimeTest, LeadingWhitespaceBeforeJsonIsAccepted) {
  auto model = XgboostRuntime().load("\n  " + read_file(data_path("models/diabetes.json")), {});
  EXPECT_TRUE(model.ok()) << model.status().to_string();
}

TEST(XgboostRuntimeTest, WrongDataSizeIsRejected) {
  auto model = load_model("breast_cancer.ubj");
  ASSERT_NE(model, nullptr);
  std::vector<float> data(59, 0.0f);
  for (auto result : {model->predict(data, 2), model->explain(data, 2)}) {
    EXPECT_EQ(result.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find("expects 30 features"), std::string::npos)
        << result.status().message();
  }
  auto none = model->predict({}, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->shape, (std::vector<int64_t>{0}));
  auto no_contributions = model->explain({}, 0);
  ASSERT_TRUE(no_contributions.ok());
  EXPECT_EQ(no_contributions->shape, (std::vector<int64_t>{0, 31}));
}

TEST(XgboostRuntimeTest, ConcurrentPredictAndExplainAreSafe) {
  Expected64 e = read_expected("breast_cancer");
  auto model = load_model("breast_cancer.json");
  ASSERT_NE(model, nullptr);
  auto reference = model->predict(e.data, e.rows);
  auto reference_contributions = model->explain(e.data, e.rows);
  ASSERT_TRUE(reference.ok() && reference_contributions.ok());
  std::atomic<int> mismatches{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 150; ++i) {
        const size_t first = static_cast<size_t>(t * 7 + i) % e.rows;
        const size_t rows = 1 + static_cast<size_t>(i) % (e.rows - first);
        std::span<const float> data(e.data.data() + first * e.features, rows * e.features);
        auto out = model->predict(data, rows);
        if (!out.ok()) {
          ++failures;
          continue;
        }
        for (size_t r = 0; r < rows; ++r) {
          if (out->values[r] != reference->values[first + r]) ++mismatches;
        }
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 20; ++i) {
      auto out = model->explain(e.data, e.rows);
      if (!out.ok()) {
        ++failures;
      } else if (out->values != reference_contributions->values) {
        ++mismatches;
      }
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(XgboostRuntimeTest, ErrorTextIsTrimmedForUsers) {
  EXPECT_EQ(xgboost_error_text("[09:17:08] ./src/learner.cc:1017: Check failed: fi->Read(&mparam_, "
                               "sizeof(mparam_)) == sizeof(mparam_) (0 vs. 136) : BoostLearner: "
                               "wrong model format\nStack trace:\n  [bt] (0) /lib/x.so(f+0x79)"),
            "BoostLearner: wrong model format");
  EXPECT_EQ(xgboost_error_text("[09:17:08] ./include/xgboost/json.h:81: Invalid cast, from Null to "
                               "Object\nStack trace:"),
            "Invalid cast, from Null to Object");
  EXPECT_EQ(xgboost_error_text("map::at"), "map::at");
  EXPECT_EQ(xgboost_error_text("cannot open /etc/secret/file now"), "cannot open now");
  EXPECT_EQ(xgboost_error_text(""), "unknown error");
  EXPECT_EQ(xgboost_error_text("got: \"\xff\x01\""), "got: \"??\"");
  std::string long_text(1000, 'x');
  EXPECT_EQ(xgboost_error_text(long_text).size(), kMaxXgboostErrorChars);
}

}  // namespace
}  // namespace vigil::runtime
