#include "registry/model_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/temp_db.h"

namespace vigil::registry {
namespace {

class ModelServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sqlite_.ok()); }
  void TearDown() override { std::filesystem::remove_all(cache_); }

  Upload upload(std::string name, std::optional<std::string> kind, std::string metadata = "{}") {
    return {.name = std::move(name),
            .kind = std::move(kind),
            .bytes = "bytes",
            .metadata = std::move(metadata),
            .user_id = 0};
  }

  vigil::testing::MigratedSqlite sqlite_;
  std::filesystem::path cache_ = vigil::testing::make_temp_dir();
  ArtifactStore artifacts_{*sqlite_.db(), cache_};
  ModelRegistry registry_{*sqlite_.db(), artifacts_};
  std::vector<std::string> changed_;
  ModelService service_{
      registry_,
      {.kinds = {"linear", "xgboost"},
       .loadable = [](std::string_view kind, std::string_view, std::string_view) -> Status {
         if (kind == "xgboost") return invalid_argument("not a model file");
         return {};
       }},
      [this](const ModelVersion& v) {
        changed_.push_back(v.model + "@" + std::to_string(v.version));
      }};
};

TEST_F(ModelServiceTest, AnUploadIsStoredAndAnnounced) {
  auto v = service_.upload(upload("iris", "linear", R"({"features":["a","b"]})"));
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ(v->version, 1);
  EXPECT_EQ(changed_, std::vector<std::string>{"iris@1"});
  auto again = service_.upload(upload("IRIS", std::nullopt));  // the model's own kind
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->kind, "linear");
}

TEST_F(ModelServiceTest, EachBadInputNamesItsField) {
  struct Case {
    Upload upload;
    ErrorCode code;
    std::string field;
  };
  std::vector<Case> cases = {
      {upload("bad name", "linear"), ErrorCode::kInvalidArgument, "name"},
      {upload("m", "linear", "[1]"), ErrorCode::kMalformed, "metadata"},
      {upload("m", "linear", "{"), ErrorCode::kMalformed, "metadata"},
      {upload("m", "linear", std::string(70000, ' ')), ErrorCode::kInvalidArgument, "metadata"},
      {upload("m", "linear", R"({"features":["a","a"]})"), ErrorCode::kInvalidArgument,
       "metadata.features"},
      {upload("m", "linear", R"({"price_per_row":-1})"), ErrorCode::kInvalidArgument,
       "metadata.price_per_row"},
      {upload("m", "linear", R"({"alarm_threshold":"x"})"), ErrorCode::kInvalidArgument,
       "metadata.alarm_threshold"},
      {upload("m", "onnx"), ErrorCode::kInvalidArgument, "kind"},
      {upload("m", std::nullopt), ErrorCode::kInvalidArgument, "kind"},
      {upload("m", "xgboost"), ErrorCode::kInvalidArgument, "file"},
  };
  for (const auto& c : cases) {
    auto v = service_.upload(c.upload);
    ASSERT_FALSE(v.ok()) << c.field;
    EXPECT_EQ(v.status().code(), c.code) << v.status().to_string();
    EXPECT_EQ(v.status().field(), c.field) << v.status().to_string();
  }
  EXPECT_TRUE(changed_.empty());
  EXPECT_EQ(registry_.get("m").status().code(), ErrorCode::kNotFound);
}

TEST_F(ModelServiceTest, AliasMovesAndDeletesAreAnnounced) {
  ASSERT_TRUE(service_.upload(upload("iris", "linear")).ok());
  ASSERT_TRUE(service_.upload(upload("iris", "linear")).ok());
  ASSERT_TRUE(service_.set_alias("iris", "production", 1, 0).ok());
  EXPECT_EQ(service_.delete_version("iris", "production").code(), ErrorCode::kConflict);
  ASSERT_TRUE(service_.delete_version("iris", "latest").ok());
  EXPECT_EQ(changed_, (std::vector<std::string>{"iris@1", "iris@2", "iris@1", "iris@2"}));
  EXPECT_EQ(service_.delete_version("iris", "7").code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace vigil::registry
