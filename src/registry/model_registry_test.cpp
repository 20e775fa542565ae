#include "registry/model_registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/ids.h"
#include "support/temp_db.h"

namespace vigil::registry {
namespace {

class ModelRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sqlite_.ok());
    ASSERT_FALSE(cache_.empty());
  }
  void TearDown() override { std::filesystem::remove_all(cache_); }

  vigil::testing::MigratedSqlite sqlite_;
  std::filesystem::path cache_ = vigil::testing::make_temp_dir();  // before artifacts_
  ArtifactStore artifacts_{*sqlite_.db(), cache_};
  ModelRegistry registry_{*sqlite_.db(), artifacts_};
};

TEST_F(ModelRegistryTest, VersionsCountUpAndAreNeverReused) {
  auto v1 = registry_.add_version("Iris", std::string("linear"), "one", "{}", 0);
  ASSERT_TRUE(v1.ok()) << v1.status().to_string();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->sha256, sha256_hex("one"));
  EXPECT_EQ(v1->size, 3);
  auto v2 = registry_.add_version("iris", std::nullopt, "two", R"({"a":1})", 0);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->model, "Iris");  // stored as first given, found case-insensitively
  ASSERT_TRUE(registry_.delete_version("IRIS", 2).ok());
  auto v3 = registry_.add_version("iris", std::nullopt, "three", "{}", 0);
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->version, 3);
  auto model = registry_.get("iris");
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->latest_version, 3);
  auto versions = registry_.versions(*model);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].version, 1);
  EXPECT_EQ((*versions)[1].version, 3);
  EXPECT_EQ(registry_.resolve("iris", "2").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(registry_.resolve("iris", "latest")->version, 3);
}

TEST_F(ModelRegistryTest, KindIsRequiredForANewModelAndMustMatchLater) {
  auto v = registry_.add_version("m", std::nullopt, "x", "{}", 0);
  EXPECT_EQ(v.status().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(registry_.add_version("m", std::string("linear"), "x", "{}", 0).ok());
  v = registry_.add_version("m", std::string("xgboost"), "y", "{}", 0);
  EXPECT_EQ(v.status().code(), ErrorCode::kConflict);
  for (const char* bad : {"", "a b", "a/b", "x\n"}) {
    EXPECT_EQ(registry_.add_version(bad, std::string("linear"), "x", "{}", 0).status().code(),
              ErrorCode::kInvalidArgument)
        << bad;
  }
}

TEST_F(ModelRegistryTest, AliasesMoveAndKeepTheirHistory) {
  ASSERT_TRUE(registry_.add_version("m", std::string("linear"), "1", "{}", 0).ok());
  ASSERT_TRUE(registry_.add_version("m", std::string("linear"), "2", "{}", 0).ok());
  auto a = registry_.set_alias("m", "Production", 1, 0);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(a->alias, "production");
  EXPECT_EQ(a->from_version, 0);
  a = registry_.set_alias("m", "production", 2, 0);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->from_version, 1);
  EXPECT_EQ(registry_.resolve("m", "PRODUCTION")->version, 2);
  auto model = registry_.get("m");
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->aliases.at("production"), 2);
  auto history = registry_.alias_history(*model, 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].to_version, 2);  // newest first
  EXPECT_EQ((*history)[1].to_version, 1);

  EXPECT_EQ(registry_.set_alias("m", "canary", 9, 0).status().code(), ErrorCode::kNotFound);
  for (const char* bad : {"3", "latest", "LATEST", "007", "a b", ""}) {
    EXPECT_EQ(registry_.set_alias("m", bad, 1, 0).status().code(), ErrorCode::kInvalidArgument)
        << bad;
  }
  // An alias keeps its version from being deleted.
  EXPECT_EQ(registry_.delete_version("m", 2).code(), ErrorCode::kConflict);
  ASSERT_TRUE(registry_.delete_version("m", 1).ok());
  EXPECT_EQ(registry_.delete_version("m", 1).code(), ErrorCode::kNotFound);
}

TEST_F(ModelRegistryTest, InUseChecksRefuseDeletion) {
  ASSERT_TRUE(registry_.add_version("m", std::string("linear"), "1", "{}", 0).ok());
  registry_.add_in_use_check(
      [](int64_t, std::string_view, int64_t version) -> Expected<std::optional<std::string>> {
        if (version == 1) return std::optional<std::string>("device d1 runs it");
        return std::optional<std::string>();
      });
  auto s = registry_.delete_version("m", 1);
  EXPECT_EQ(s.code(), ErrorCode::kConflict);
  EXPECT_EQ(s.message(), "device d1 runs it");
}

TEST_F(ModelRegistryTest, ArtifactsAreSharedByShaAndFetchedIntoTheLocalCache) {
  std::string big(kArtifactChunkBytes * 2 + 123, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 3);
  auto v1 = registry_.add_version("a", std::string("xgboost"), big, "{}", 0);
  auto v2 = registry_.add_version("b", std::string("xgboost"), big, "{}", 0);
  ASSERT_TRUE(v1.ok() && v2.ok());
  EXPECT_EQ(v1->sha256, v2->sha256);
  auto n = sqlite_.db()->query("SELECT COUNT(*) FROM artifact_chunks");
  EXPECT_EQ(n->get_int(0, 0), 3);

  // Another node: an empty cache directory fetches from the store.
  auto other_cache = vigil::testing::make_temp_dir();
  ArtifactStore other(*sqlite_.db(), other_cache);
  auto part = other.read(v1->sha256, kArtifactChunkBytes - 2, 5);
  ASSERT_TRUE(part.ok()) << part.status().to_string();
  EXPECT_EQ(*part, big.substr(kArtifactChunkBytes - 2, 5));
  auto tail = other.read(v1->sha256, big.size() - 3, 100);  // clamped at the end
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, big.substr(big.size() - 3));
  EXPECT_EQ(other.read(std::string(64, 'a'), 0, 1).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(other.read("../../etc/passwd", 0, 1).status().code(), ErrorCode::kNotFound);

  // The artifact goes once no version uses it.
  ASSERT_TRUE(registry_.delete_version("a", 1).ok());
  EXPECT_EQ(sqlite_.db()->query("SELECT COUNT(*) FROM artifacts")->get_int(0, 0), 1);
  ASSERT_TRUE(registry_.delete_version("b", 1).ok());
  EXPECT_EQ(sqlite_.db()->query("SELECT COUNT(*) FROM artifacts")->get_int(0, 0), 0);
  EXPECT_EQ(sqlite_.db()->query("SELECT COUNT(*) FROM artifact_chunks")->get_int(0, 0), 0);
  std::filesystem::remove_all(other_cache);
}

TEST_F(ModelRegistryTest, ACorruptLocalFetchIsRefused) {
  auto v = registry_.add_version("a", std::string("linear"), "good bytes", "{}", 0);
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(
      sqlite_.db()->exec("UPDATE artifact_chunks SET bytes = $1", {store::Blob{"bad"}}).ok());
  auto other_cache = vigil::testing::make_temp_dir();
  ArtifactStore other(*sqlite_.db(), other_cache);
  EXPECT_EQ(other.read(v->sha256, 0, 4).status().code(), ErrorCode::kInternal);
  std::filesystem::remove_all(other_cache);
}

TEST_F(ModelRegistryTest, TheBlankModelExistsOnceAndCannotBeDeleted) {
  ASSERT_TRUE(registry_.ensure_blank_model().ok());
  ASSERT_TRUE(registry_.ensure_blank_model().ok());
  auto v = registry_.resolve("blank", "1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->kind, "blank");
  EXPECT_EQ(v->size, 0);
  EXPECT_EQ(registry_.delete_version("blank", 1).code(), ErrorCode::kConflict);
  auto list = registry_.list(50, std::nullopt);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
}

TEST_F(ModelRegistryTest, ListPagesByName) {
  for (const char* name : {"c", "A", "b", "d"}) {
    ASSERT_TRUE(registry_.add_version(name, std::string("linear"), name, "{}", 0).ok());
  }
  auto page = registry_.list(2, std::nullopt);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].name, "A");
  EXPECT_EQ((*page)[1].name, "b");
  page = registry_.list(2, (*page)[1].id);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].name, "c");
  EXPECT_EQ((*page)[1].name, "d");
}

TEST_F(ModelRegistryTest, ConcurrentUploadsGetDistinctVersions) {
  ASSERT_TRUE(registry_.add_version("m", std::string("linear"), "0", "{}", 0).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        auto v = registry_.add_version("m", std::nullopt, std::to_string(t * 10 + i), "{}", 0);
        EXPECT_TRUE(v.ok()) << v.status().to_string();
      }
    });
  }
  for (auto& t : threads) t.join();
  auto model = registry_.get("m");
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->latest_version, 21);
  EXPECT_EQ(registry_.versions(*model)->size(), 21u);
}

}  // namespace
}  // namespace vigil::registry
