// RuntimeRegistry, the blank and linear runtimes, and the input checks every runtime shares.
#include "runtime/runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "runtime/blank/blank_runtime.h"
#include "runtime/linear/linear_runtime.h"
#include "runtime/model_input.h"
#include "runtime/test_util.h"

namespace vigil::runtime {
namespace {

using testing::json_object;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(RuntimeRegistryTest, DefaultRuntimesAreFoundByExactKind) {
  auto registry = default_runtimes();
  EXPECT_EQ(registry->kinds(), (std::vector<std::string>{"blank", "linear", "xgboost"}));
  ASSERT_NE(registry->find("xgboost"), nullptr);
  EXPECT_EQ(registry->find("xgboost")->kind(), "xgboost");
  EXPECT_EQ(registry->find("linear")->kind(), "linear");
  EXPECT_EQ(registry->find("blank")->kind(), "blank");
  EXPECT_EQ(registry->find("XGBoost"), nullptr);  // case-sensitive
  EXPECT_EQ(registry->find("mp-detector"), nullptr);
  EXPECT_EQ(registry->find(""), nullptr);
}

TEST(RuntimeRegistryTest, AddingAKindAgainReplacesIt) {
  RuntimeRegistry registry;
  registry.add(std::make_unique<BlankRuntime>());
  registry.add(std::make_unique<LinearRuntime>());
  registry.add(std::make_unique<BlankRuntime>());
  EXPECT_EQ(registry.kinds(), (std::vector<std::string>{"blank", "linear"}));
}

TEST(ModelInputTest, ChecksValuesAgainstRowsAndFeatures) {
  std::vector<float> six(6, 1.0f);
  EXPECT_TRUE(check_input(six, 2, 3).ok());
  EXPECT_TRUE(check_input(six, 3, 2).ok());
  Status s = check_input(six, 2, 4);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("expects 4 features"), std::string::npos) << s.message();
  EXPECT_FALSE(check_input(six, 7, 1).ok());
  EXPECT_FALSE(check_input(six, std::numeric_limits<size_t>::max(), 3).ok());
  EXPECT_TRUE(check_input({}, 0, 3).ok());
  // features 0 = any number of columns, but equal per row
  EXPECT_TRUE(check_input(six, 2, 0).ok());
  EXPECT_FALSE(check_input(six, 4, 0).ok());
  EXPECT_FALSE(check_input(six, 0, 0).ok());
}

TEST(ModelInputTest, MetadataFeatures) {
  auto none = metadata_feature_count(json_object("{}"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto two = metadata_feature_count(json_object(R"({"features":["a","b"]})"));
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->value(), 2u);
  EXPECT_EQ(metadata_feature_count(json_object(R"({"features":"a"})")).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(metadata_feature_count(json_object(R"({"features":[1]})")).status().code(),
            ErrorCode::kInvalidArgument);
  Status s = check_declared_features(3, 4);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find('3'), std::string::npos);
  EXPECT_NE(s.message().find('4'), std::string::npos);
}

// ---- blank

TEST(BlankRuntimeTest, PredictsZerosForAnyBytes) {
  BlankRuntime blank;
  for (std::string_view bytes : {std::string_view{}, std::string_view{"\x00\xff garbage", 10}}) {
    auto model = blank.load(bytes, {});
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    EXPECT_EQ((*model)->num_features(), 0u);
    EXPECT_TRUE((*model)->row_output_shape().empty());
    std::vector<float> data(6, 5.0f);
    auto out = (*model)->predict(data, 3);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->shape, (std::vector<int64_t>{3}));
    EXPECT_EQ(out->values, (std::vector<float>{0, 0, 0}));
    auto contributions = (*model)->explain(data, 3);
    ASSERT_TRUE(contributions.ok());
    EXPECT_EQ(contributions->shape, (std::vector<int64_t>{3, 3}));  // 2 columns + bias
    EXPECT_EQ(contributions->values, std::vector<float>(9, 0.0f));
    EXPECT_EQ((*model)->predict(data, 4).status().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(BlankRuntimeTest, FeatureCountComesFromMetadata) {
  BlankRuntime blank;
  auto model = blank.load("", json_object(R"({"features":["a","b","c"]})"));
  ASSERT_TRUE(model.ok());
  EXPECT_EQ((*model)->num_features(), 3u);
  std::vector<float> data(6, 1.0f);
  auto out = (*model)->predict(data, 2);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->shape, (std::vector<int64_t>{2}));
  auto contributions = (*model)->explain(data, 2);
  ASSERT_TRUE(contributions.ok());
  EXPECT_EQ(contributions->shape, (std::vector<int64_t>{2, 4}));
  auto wrong = (*model)->predict(data, 3);
  EXPECT_EQ(wrong.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("expects 3 features"), std::string::npos);
  EXPECT_EQ(blank.load("", json_object(R"({"features":{}})")).status().code(),
            ErrorCode::kInvalidArgument);
}

// ---- linear

std::unique_ptr<LoadedModel> load_linear(std::string_view json, std::string_view metadata = "{}") {
  auto model = LinearRuntime().load(json, json_object(metadata));
  EXPECT_TRUE(model.ok()) << model.status().to_string();
  return model.ok() ? std::move(*model) : nullptr;
}

TEST(LinearRuntimeTest, IdentityLinkPredictsTheMargin) {
  auto model = load_linear(R"({"weights":[1, -2, 0.5], "bias": 3})");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->num_features(), 3u);
  EXPECT_TRUE(model->row_output_shape().empty());
  EXPECT_GT(model->memory_bytes(), 3 * sizeof(double));
  std::vector<float> data{1, 1, 2, 0, 0, 0};
  auto out = model->predict(data, 2);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->shape, (std::vector<int64_t>{2}));
  EXPECT_FLOAT_EQ(out->values[0], 3 + 1 - 2 + 1);
  EXPECT_FLOAT_EQ(out->values[1], 3);
}

TEST(LinearRuntimeTest, DefaultsAreBiasZeroAndIdentity) {
  auto model = load_linear(R"({"weights":[2]})");
  ASSERT_NE(model, nullptr);
  std::vector<float> data{-4};
  auto out = model->predict(data, 1);
  ASSERT_TRUE(out.ok());
  EXPECT_FLOAT_EQ(out->values[0], -8);
}

TEST(LinearRuntimeTest, LogisticLink) {
  auto model = load_linear(R"({"weights":[1, 1], "bias": -1, "link": "logistic"})");
  ASSERT_NE(model, nullptr);
  std::vector<float> data{0.5f, 0.5f, 3, 0};
  auto out = model->predict(data, 2);
  ASSERT_TRUE(out.ok());
  EXPECT_FLOAT_EQ(out->values[0], 0.5f);
  EXPECT_NEAR(out->values[1], 1.0 / (1.0 + std::exp(-2.0)), 1e-7);
  // Contributions stay in margin space.
  auto contributions = model->explain(data, 2);
  ASSERT_TRUE(contributions.ok());
  EXPECT_EQ(contributions->values, (std::vector<float>{0.5f, 0.5f, -1, 3, 0, -1}));
}

TEST(LinearRuntimeTest, MissingValuesContributeNothing) {
  auto model = load_linear(R"({"weights":[10, 1], "bias": 0.5})");
  ASSERT_NE(model, nullptr);
  std::vector<float> data{kNaN, 2, kNaN, kNaN};
  auto out = model->predict(data, 2);
  ASSERT_TRUE(out.ok());
  EXPECT_FLOAT_EQ(out->values[0], 2.5f);
  EXPECT_FLOAT_EQ(out->values[1], 0.5f);
  auto contributions = model->explain(data, 2);
  ASSERT_TRUE(contributions.ok());
  EXPECT_EQ(contributions->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(contributions->values, (std::vector<float>{0, 2, 0.5f, 0, 0, 0.5f}));
}

TEST(LinearRuntimeTest, WrongDataSizeIsRejected) {
  auto model = load_linear(R"({"weights":[1, 2, 3]})");
  ASSERT_NE(model, nullptr);
  std::vector<float> data(5, 1.0f);
  for (auto result : {model->predict(data, 2), model->explain(data, 2)}) {
    EXPECT_EQ(result.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find("expects 3 features"), std::string::npos);
  }
  auto empty = model->predict({}, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->shape, (std::vector<int64_t>{0}));
}

struct BadLinear {
  std::string json;
  std::string field;  // the message must name it
};

TEST(LinearRuntimeTest, BadFilesNameTheField) {
  std::string too_many = R"({"weights":[)";
  for (size_t i = 0; i <= LinearRuntime::kMaxWeights; ++i) too_many += i ? ",0" : "0";
  too_many += "]}";
  const std::vector<BadLinear> cases{
      {"", "JSON"},
      {"{\"weights\":[1,2]", "JSON"},
      {"\x89PNG\r\n", "JSON"},
      {"[1,2]", "object"},
      {"3", "object"},
      {R"({"weights":[1],"offset":2})", "offset"},
      {R"({"bias":1})", "weights"},
      {R"({"weights":null})", "weights"},
      {R"({"weights":"1,2"})", "weights"},
      {R"({"weights":[]})", "weights"},
      {R"({"weights":[1,"2"]})", "weights[1]"},
      {R"({"weights":[1,null]})", "weights[1]"},
      {R"({"weights":[1,[2]]})", "weights[1]"},
      {R"({"weights":[1e999]})", "weights"},  // a parse error or infinite: rejected either way
      {too_many, "weights"},
      {R"({"weights":[1],"bias":"0"})", "bias"},
      {R"({"weights":[1],"bias":null})", "bias"},
      {R"({"weights":[1],"link":"probit"})", "link"},
      {R"({"weights":[1],"link":1})", "link"},
      {R"({"weights":[[[[[[[[[[1]]]]]]]]]]})", "JSON"},  // deeper than any model needs
  };
  LinearRuntime linear;
  for (const auto& c : cases) {
    auto model = linear.load(c.json, {});
    ASSERT_FALSE(model.ok()) << c.json.substr(0, 80);
    EXPECT_EQ(model.status().code(), ErrorCode::kInvalidArgument) << c.json.substr(0, 80);
    EXPECT_NE(model.status().message().find(c.field), std::string::npos)
        << c.json.substr(0, 80) << " → " << model.status().message();
  }
}

TEST(LinearRuntimeTest, OversizedFileIsRejectedBeforeParsing) {
  std::string big(LinearRuntime::kMaxBytes + 1, ' ');
  auto model = LinearRuntime().load(big, {});
  EXPECT_EQ(model.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("MiB"), std::string::npos);
}

TEST(LinearRuntimeTest, MetadataFeatureCountMustMatchWeights) {
  auto ok = LinearRuntime().load(R"({"weights":[1,2]})", json_object(R"({"features":["a","b"]})"));
  EXPECT_TRUE(ok.ok());
  auto bad = LinearRuntime().load(R"({"weights":[1,2]})", json_object(R"({"features":["a"]})"));
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("1 name"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("2 feature"), std::string::npos);
}

}  // namespace
}  // namespace vigil::runtime
