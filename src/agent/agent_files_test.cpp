#include "agent/agent_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "support/temp_db.h"

namespace vigil::agent {
namespace {

namespace fs = std::filesystem;

class AgentFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("vigil-agent-files-");
    ASSERT_TRUE(prepare_state_dir(dir_ / "state").ok());
    state_ = dir_ / "state";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_, state_;
};

TEST_F(AgentFilesTest, NothingSavedYet) {
  auto id = load_identity(state_);
  ASSERT_TRUE(id.ok());
  EXPECT_FALSE(*id);
  auto current = load_current(state_);
  ASSERT_TRUE(current.ok());
  EXPECT_FALSE(*current);
  EXPECT_TRUE(fs::is_directory(state_ / "models"));
}

TEST_F(AgentFilesTest, IdentityRoundTripsInAPrivateFile) {
  Identity id{.server = "http://127.0.0.1:8080",
              .watchdog = "w1",
              .device = "d1",
              .token = "secret",
              .signing_key = "key"};
  ASSERT_TRUE(save_identity(state_, id).ok());
  struct stat st {};
  ASSERT_EQ(::stat((state_ / "agent.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = load_identity(state_);
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(*back);
  EXPECT_EQ((*back)->token, "secret");
  EXPECT_EQ((*back)->watchdog, "w1");
  EXPECT_EQ((*back)->signing_key, "key");
  EXPECT_FALSE(fs::exists(state_ / "agent.json.tmp"));
  // Started from a token: the names come later.
  id.watchdog.clear();
  id.device.clear();
  ASSERT_TRUE(save_identity(state_, id).ok());
  back = load_identity(state_);
  ASSERT_TRUE(back.ok() && *back);
  EXPECT_EQ((*back)->watchdog, "");
}

TEST_F(AgentFilesTest, CurrentModelRoundTrips) {
  InstalledModel m{.name = "m",
                   .version = 3,
                   .sha256 = std::string(64, 'a'),
                   .kind = "xgboost",
                   .metadata = R"({"alarm_threshold":0.5})"};
  ASSERT_TRUE(save_current(state_, m).ok());
  auto back = load_current(state_);
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(*back);
  EXPECT_EQ((*back)->name, "m");
  EXPECT_EQ((*back)->version, 3);
  EXPECT_EQ((*back)->kind, "xgboost");
  EXPECT_EQ(artifact_path(state_, m.sha256), state_ / "models" / m.sha256);
}

TEST_F(AgentFilesTest, DamagedFilesAreReportedNotGuessed) {
  std::ofstream(state_ / "agent.json") << "{\"server\":\"x\"";
  EXPECT_EQ(load_identity(state_).status().code(), ErrorCode::kMalformed);
  std::ofstream(state_ / "agent.json") << R"({"server":"x","token":"t"})";
  EXPECT_EQ(load_identity(state_).status().message(), "no signing_key");
  std::ofstream(state_ / "current.json")
      << R"({"name":"m","sha256":"a","kind":"k","version":0,"metadata":{}})";
  EXPECT_EQ(load_current(state_).status().message(), "no version");
}

TEST_F(AgentFilesTest, ReadFileHasACap) {
  ASSERT_TRUE(write_file_atomic(dir_ / "f", "12345").ok());
  EXPECT_EQ(*read_file(dir_ / "f", 5), "12345");
  EXPECT_EQ(read_file(dir_ / "f", 4).status().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(read_file(dir_ / "nope", 4).status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace vigil::agent
