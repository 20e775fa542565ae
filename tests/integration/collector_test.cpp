// The sleep-record collector on real folders (API.md "Records", decision 0021): files dropped
// into the drop folder of a running server become queryable records and go to the archive; bad
// ones go to quarantine with a reason while the server keeps serving; a file still being written
// is not taken half-done; two `vigil collect` processes racing on one folder of 200 files store
// each exactly once. On SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "records/record_writer.h"
#include "support/child_process.h"
#include "support/http_client.h"
#include "support/pg_server.h"
#include "support/test_app.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

std::string data(const std::string& name) {
  return std::string(VIGIL_TEST_DATA_DIR) + "/records/" + name;
}

size_t files_under(const fs::path& dir) {
  size_t n = 0;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

// Polls `done` every 50 ms until it holds or `limit` passes.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 60s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

class CollectorTest : public testing::BackendAppTest {
 protected:
  // The app on the parameter's backend; its database URL kept for `vigil collect`.
  void start(std::vector<std::pair<std::string, std::string>> settings) {
    if (GetParam() == "postgres") {
      VIGIL_PG_SERVER_OR_SKIP(pg);
      std::string error;
      url_ = testing::fresh_database_url(*pg, "collector", &error);
      ASSERT_FALSE(url_.empty()) << error;
      settings.emplace_back("database.url", url_);
    }
    app_ = std::make_unique<testing::TestApp>(std::move(settings), true);
    client_ = std::make_unique<testing::HttpClient>(app_->port());
    if (url_.empty()) url_ = "sqlite://" + (app_->data_dir() / "vigil.db").string();
    user_ = bearer(app_->account("user").second);
    for (const char* name : {"alice", "bob"}) {
      const int64_t id = app_->account("user").first;
      std::vector<store::Value> p{std::string(name), id};
      ASSERT_TRUE(
          app_->app().database().exec("UPDATE users SET username = $1 WHERE id = $2", p).ok());
    }
  }
  fs::path dir(const char* name) { return app_->data_dir() / name; }
  int64_t records() {
    auto r = app_->app().database().query("SELECT count(*) FROM records");
    return r.ok() ? r->get_int(0, 0) : -1;
  }

  std::string url_;
  Headers user_;
};

TEST_P(CollectorTest, DroppedFilesAreStoredArchivedOrQuarantinedWithTheirReason) {
  start({{"collector.rescan_s", "1"}});
  if (IsSkipped() || HasFatalFailure()) return;
  // Good files moved in, as a writer should; bad ones copied in place.
  for (const char* name : {"record_alice_night1.h5", "record_bob_night1.h5"}) {
    fs::copy_file(data(name), dir("dropzone") / (std::string(".") + name + ".part"));
    fs::rename(dir("dropzone") / (std::string(".") + name + ".part"), dir("dropzone") / name);
  }
  for (const char* name : {"bad_missing_attrs.h5", "bad_not_hdf5.h5", "bad_truncated.h5"}) {
    fs::copy_file(data(name), dir("dropzone") / name);
  }
  ASSERT_TRUE(eventually([&] { return records() == 2 && files_under(dir("quarantine")) == 6; }))
      << records() << " records, " << files_under(dir("quarantine")) << " files in quarantine";
  // Every field is queryable.
  auto list = client_->get("/api/v1/records?user=bob", user_);
  ASSERT_EQ(list.status, 200);
  const json::value bob = list.json().at("items").as_array().at(0);
  EXPECT_EQ(bob.at("source"), "dropzone");
  EXPECT_EQ(bob.at("file").at("name"), "record_bob_night1.h5");
  EXPECT_EQ(bob.at("attributes").as_object().size(), 10u);
  EXPECT_EQ(bob.at("stages").at("epochs").as_int64(), 60);
  // Archived by day; the quarantine has each bad file with its reason.
  EXPECT_EQ(files_under(dir("archive")), 2u);
  EXPECT_EQ(files_under(dir("dropzone")), 0u);
  std::ifstream reason(dir("quarantine") / "bad_missing_attrs.h5.reason");
  std::string text((std::istreambuf_iterator<char>(reason)), {});
  EXPECT_NE(text.find("attribute device is missing"), std::string::npos) << text;
  std::ifstream not_hdf5(dir("quarantine") / "bad_not_hdf5.h5.reason");
  text.assign((std::istreambuf_iterator<char>(not_hdf5)), {});
  EXPECT_NE(text.find("not an HDF5 file"), std::string::npos) << text;
  // The server kept serving, and a file dropped again is archived as a duplicate, not stored
  // twice.
  EXPECT_EQ(client_->get("/healthz").status, 200);
  fs::copy_file(data("record_bob_night1.h5"), dir("dropzone") / "again.h5");
  ASSERT_TRUE(eventually([&] { return files_under(dir("archive")) == 3; }));
  EXPECT_EQ(records(), 2);
  // A file whose user no account has is refused with that reason.
  std::vector<store::Value> p{std::string("bob")};
  ASSERT_TRUE(
      app_->app().database().exec("UPDATE users SET username = NULL WHERE username = $1", p).ok());
  ASSERT_TRUE(app_->app().database().exec("DELETE FROM records").ok());
  fs::copy_file(data("record_bob_night1.h5"), dir("dropzone") / "stranger.h5");
  ASSERT_TRUE(eventually([&] { return fs::exists(dir("quarantine") / "stranger.h5.reason"); }));
  std::ifstream stranger(dir("quarantine") / "stranger.h5.reason");
  text.assign((std::istreambuf_iterator<char>(stranger)), {});
  EXPECT_NE(text.find("no user has the username bob"), std::string::npos) << text;
}

TEST_P(CollectorTest, AFileStillBeingWrittenIsNotTakenHalfDone) {
  start({{"collector.rescan_s", "1"}});
  if (IsSkipped() || HasFatalFailure()) return;
  std::ifstream in(data("record_alice_night1.h5"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const fs::path path = dir("dropzone") / "writing.h5";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_GE(fd, 0);
  const size_t half = bytes.size() / 2;
  ASSERT_EQ(::write(fd, bytes.data(), half), static_cast<ssize_t>(half));
  ::fsync(fd);
  // Three rescans pass while the writer holds it open: nothing is taken.
  std::this_thread::sleep_for(3500ms);
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(files_under(dir("quarantine")), 0u);
  EXPECT_EQ(records(), 0);
  ASSERT_EQ(::write(fd, bytes.data() + half, bytes.size() - half),
            static_cast<ssize_t>(bytes.size() - half));
  ::close(fd);
  ASSERT_TRUE(eventually([&] { return records() == 1; }));
  EXPECT_EQ(files_under(dir("quarantine")), 0u);
}

// 200 small distinct records of alice, written to `dir` under temporary names and renamed in.
void drop_records(const fs::path& dropzone, const fs::path& staging, int from, int n) {
  for (int i = from; i < from + n; ++i) {
    records::RecordFile r;
    r.user = "alice";
    r.device = "race-dev";
    r.dreempy_version = "1.0";
    r.start_time = 1'600'000'000 + i * 86'400;
    r.stop_time = r.start_time + 60;
    r.sleep_start_time = r.start_time;
    r.sleep_stop_time = r.stop_time;
    r.sleep_score = 50 + i % 50;
    r.attributes = {{"user", r.user},
                    {"device", r.device},
                    {"dreempy_version", r.dreempy_version},
                    {"start_time", r.start_time},
                    {"stop_time", r.stop_time},
                    {"sleep_start_time", r.sleep_start_time},
                    {"sleep_stop_time", r.sleep_stop_time},
                    {"sleep_score", r.sleep_score},
                    {"number_of_stimulations", int64_t{i}},
                    {"number_of_wake", int64_t{1}}};
    r.number_of_stimulations = i;
    r.number_of_wake = 1;
    r.hypnogram = {0, 1};
    records::Channel c{.modality = "eeg", .name = "F7_O1", .fs = 10, .unit = "uV"};
    for (int k = 0; k < 600; ++k) c.samples.push_back(static_cast<float>((k * (i + 1)) % 97));
    r.channels.push_back(std::move(c));
    const std::string name = "night-" + std::to_string(i) + ".h5";
    ASSERT_TRUE(records::write_record_file((staging / name).string(), r).ok());
    fs::rename(staging / name, dropzone / name);
  }
}

// 200 files; 60 in a sanitizer build, where each parser child alone takes ~0.5 s to start (the
// release run of `make test` races the 200).
#if defined(__SANITIZE_ADDRESS__)
constexpr int kRaceFiles = 60;
#else
constexpr int kRaceFiles = 200;
#endif

TEST_P(CollectorTest, TwoCollectorProcessesOnOneFolderStoreEachFileOnce) {
  start({{"collector.enabled", "false"}});
  if (IsSkipped() || HasFatalFailure()) return;
  const fs::path dropzone = dir("dropzone"), staging = dir("staging");
  fs::create_directories(dropzone);
  fs::create_directories(staging);
  drop_records(dropzone, staging, 0, kRaceFiles / 2);  // waiting before they start
  std::vector<std::unique_ptr<testing::ChildProcess>> collectors;
  for (int i = 0; i < 2; ++i) {
    collectors.push_back(std::make_unique<testing::ChildProcess>(
        VIGIL_EXE,
        std::vector<std::string>{"collect", "--data-dir", app_->data_dir().string(), "--set",
                                 "database.url=" + url_, "--set", "collector.rescan_s=1"},
        app_->data_dir(), app_->data_dir() / ("collect-" + std::to_string(i)),
        std::vector<std::pair<std::string, std::string>>{}, SIGKILL));
    ASSERT_TRUE(collectors.back()->started());
  }
  drop_records(dropzone, staging, kRaceFiles / 2, kRaceFiles / 2);  // and while they run
  ASSERT_TRUE(eventually([&] { return files_under(dir("archive")) == kRaceFiles; }, 180s))
      << files_under(dir("archive")) << " archived; " << collectors[0]->err()
      << collectors[1]->err();
  std::set<std::string> stored;
  int duplicates = 0, each[2] = {0, 0};
  const std::regex line(R"(stored (night-\d+\.h5) as record)");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(collectors[i]->stop(), 0);
    const std::string out = collectors[i]->out() + collectors[i]->err();
    for (std::sregex_iterator m(out.begin(), out.end(), line), end; m != end; ++m) {
      EXPECT_TRUE(stored.insert((*m)[1]).second) << (*m)[1] << " stored twice";
      ++each[i];
    }
    duplicates += static_cast<int>(out.find("duplicate") != std::string::npos &&
                                   out.find(" 0 duplicate(s)") == std::string::npos);
  }
  EXPECT_EQ(stored.size(), static_cast<size_t>(kRaceFiles));
  EXPECT_EQ(duplicates, 0);
  EXPECT_GT(each[0], 0) << "both collectors took files";
  EXPECT_GT(each[1], 0) << "both collectors took files";
  EXPECT_EQ(records(), kRaceFiles);
  EXPECT_EQ(files_under(dir("quarantine")), 0u);
  EXPECT_EQ(files_under(dropzone), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, CollectorTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigil
