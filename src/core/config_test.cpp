#include "core/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace vigil {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-config-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    sources_.toml_path = (dir_ / "vigil.toml").string();
    sources_.env_file = (dir_ / ".env").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::filesystem::path dir_;
  ConfigSources sources_;
};

TEST_F(ConfigTest, DefaultsApplyAndDataDirExpands) {
  auto c = Config::load(sources_);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->get_int("server.port"), 8080);
  EXPECT_EQ(c->get_string("server.host"), "127.0.0.1");
  EXPECT_EQ(c->get_string("database.url"), "sqlite://var/vigil.db");
  EXPECT_TRUE(c->get_bool("database.migrate_on_start"));
  EXPECT_EQ(c->source_of("server.port"), "default");
}

TEST_F(ConfigTest, LayersOverrideInOrder) {
  write("vigil.toml",
        "data_dir = \"/srv/v\"\n[server]\nport = 9001\nhost = \"0.0.0.0\"\n[log]\nlevel = "
        "\"debug\"\n");
  write(".env",
        "# comment\nexport VIGIL_SERVER__PORT=9002\nVIGIL_LOG__LEVEL='warn'\nOTHER_TOOL=x\n");
  sources_.environment = {{"VIGIL_SERVER__PORT", "9003"}, {"PATH", "/bin"}};
  sources_.flags = {{"server.port", "9004"}};
  auto c = Config::load(sources_);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->get_int("server.port"), 9004);
  EXPECT_EQ(c->source_of("server.port"), "flag");
  EXPECT_EQ(c->get_string("server.host"), "0.0.0.0");
  EXPECT_EQ(c->get_string("log.level"), "warn");
  EXPECT_EQ(c->get_string("database.url"), "sqlite:///srv/v/vigil.db");
}

TEST_F(ConfigTest, UnknownKeysAreNamed) {
  write("vigil.toml", "[server]\nprot = 1\n");
  auto c = Config::load(sources_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unknown key 'server.prot'"), std::string::npos);

  std::filesystem::remove(dir_ / "vigil.toml");
  sources_.environment = {{"VIGIL_SERVR__PORT", "1"}};
  c = Config::load(sources_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("VIGIL_SERVR__PORT"), std::string::npos);
}

TEST_F(ConfigTest, TestHarnessVariablesAreNotSettings) {
  sources_.environment = {{"VIGIL_TEST_PG_BIN", "/x"}};
  EXPECT_TRUE(Config::load(sources_).ok());
}

// `vigil device` and `vigil alarm` read VIGIL_URL, VIGIL_TOKEN and VIGIL_CACERT: exported for
// them, they must not stop `vigil serve` as unknown settings.
TEST_F(ConfigTest, TheClientsVariablesAreNotSettings) {
  sources_.environment = {
      {"VIGIL_URL", "http://127.0.0.1:8080"}, {"VIGIL_TOKEN", "t"}, {"VIGIL_CACERT", "ca.pem"}};
  EXPECT_TRUE(Config::load(sources_).ok());
  EXPECT_EQ(env_name_to_key("VIGIL_URL"), "");
  EXPECT_EQ(env_name_to_key("VIGIL_URL_X"), "url_x");
}

TEST_F(ConfigTest, BadValuesAreNamedWithTheirSource) {
  sources_.environment = {{"VIGIL_SERVER__PORT", "eighty"}};
  auto c = Config::load(sources_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("server.port: expected an integer, got 'eighty'"),
            std::string::npos);
  EXPECT_NE(c.status().message().find("environment"), std::string::npos);

  sources_.environment = {{"VIGIL_SERVER__PORT", "70000"}};
  EXPECT_FALSE(Config::load(sources_).ok());
  sources_.environment = {{"VIGIL_LOG__LEVEL", "loud"}};
  c = Config::load(sources_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("must be one of"), std::string::npos);
  sources_.environment = {{"VIGIL_DATABASE__MIGRATE_ON_START", "maybe"}};
  EXPECT_FALSE(Config::load(sources_).ok());
}

TEST_F(ConfigTest, BrokenTomlReportsTheLine) {
  write("vigil.toml", "[server]\nport = = 3\n");
  auto c = Config::load(sources_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("vigil.toml:2"), std::string::npos) << c.status().message();
}

TEST_F(ConfigTest, RequiredConfigFileMustExist) {
  sources_.toml_required = true;
  EXPECT_FALSE(Config::load(sources_).ok());
}

TEST_F(ConfigTest, ShowMasksSecrets) {
  sources_.flags = {{"admin_password", "hunter2hunter2"},
                    {"database.url", "postgresql://vigil:s3cret@db:5432/vigil"}};
  auto c = Config::load(sources_);
  ASSERT_TRUE(c.ok());
  std::string shown = c->show();
  EXPECT_EQ(shown.find("hunter2"), std::string::npos);
  EXPECT_EQ(shown.find("s3cret"), std::string::npos);
  EXPECT_NE(shown.find("postgresql://vigil:***@db:5432/vigil"), std::string::npos);
  EXPECT_NE(shown.find("admin_password = \"***\""), std::string::npos);
}

TEST(EnvNameTest, MapsSectionsAndKeys) {
  EXPECT_EQ(env_name_to_key("VIGIL_SERVER__PORT"), "server.port");
  EXPECT_EQ(env_name_to_key("VIGIL_ADMIN_PASSWORD"), "admin_password");
  EXPECT_EQ(env_name_to_key("VIGIL_DATABASE__MIGRATE_ON_START"), "database.migrate_on_start");
  EXPECT_EQ(env_name_to_key("HOME"), "");
  EXPECT_EQ(env_name_to_key("VIGIL_TEST_ANYTHING"), "");
}

TEST(DotenvTest, ParsesQuotesCommentsAndErrors) {
  auto v = parse_dotenv("A=1\n\n# c\nB=\"two words\"\nC=x # trailing\n");
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 3u);
  EXPECT_EQ((*v)[1].second, "two words");
  EXPECT_EQ((*v)[2].second, "x");
  auto bad = parse_dotenv("A=1\nnot a pair\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos);
}

}  // namespace
}  // namespace vigil
