#include "records/collector.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace vigil::records {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Kind = Outcome::Kind;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Stands in for the real processor: by name, "bad…" is refused, "dup…" a duplicate, "slow…"
// takes 300 ms, "throw…" throws once, names in retries_left are retried that many times first;
// everything else is stored. Counts the calls per name and keeps what each call read.
struct FakeProcessor {
  std::mutex mu;
  std::map<std::string, int> calls;
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> times;
  std::map<std::string, std::string> contents;
  std::map<std::string, int> retries_left;
  int64_t next_id = 1;

  Outcome operator()(const fs::path& claimed, const std::string& name) {
    std::string content = slurp(claimed);
    std::unique_lock lock(mu);
    ++calls[name];
    times[name].push_back(std::chrono::steady_clock::now());
    contents[name] = std::move(content);
    if (name.starts_with("bad")) return {Kind::kRefused, "not an HDF5 file", 0};
    if (name.starts_with("dup")) return {Kind::kDuplicate, "", 7};
    if (name.starts_with("throw") && calls[name] == 1) throw std::runtime_error("boom");
    if (name.starts_with("slow")) {
      lock.unlock();
      std::this_thread::sleep_for(300ms);
      lock.lock();
    }
    if (auto it = retries_left.find(name); it != retries_left.end() && it->second > 0) {
      --it->second;
      return {Kind::kRetry, "the store is unavailable", 0};
    }
    return {Kind::kStored, "", next_id++};
  }
  int count(const std::string& name) {
    std::lock_guard lock(mu);
    auto it = calls.find(name);
    return it == calls.end() ? 0 : it->second;
  }
  Processor processor() {
    return [this](const fs::path& p, const std::string& n) { return (*this)(p, n); };
  }
};

bool wait_for(const std::function<bool()>& done, std::chrono::seconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

uint64_t finished(const CollectorStats& s) { return s.stored + s.duplicates + s.quarantined; }

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "vigil-collector-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    drop_ = dir_ / "dropzone";
    fs::create_directories(drop_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  CollectorOptions options(const std::string& id, std::chrono::milliseconds rescan) const {
    CollectorOptions o;
    o.dropzone = drop_;
    o.archive = dir_ / "archive";
    o.quarantine = dir_ / "quarantine";
    o.rescan_every = rescan;
    o.settle = 200ms;
    o.retry_backoff = 100ms;
    o.id = id;
    return o;
  }

  // Written under a temporary name, then renamed into place.
  void drop_by_rename(const std::string& name, const std::string& content) const {
    const fs::path tmp = drop_ / (name + ".part");
    std::ofstream(tmp, std::ios::binary) << content;
    fs::rename(tmp, drop_ / name);
  }
  // Written in place: open, write, close.
  void drop_by_write(const std::string& name, const std::string& content) const {
    std::ofstream(drop_ / name, std::ios::binary) << content;
  }

  // The archived files: name → content, over every date folder.
  std::map<std::string, std::string> archived() const {
    std::map<std::string, std::string> out;
    std::error_code ec;
    if (!fs::exists(dir_ / "archive")) return out;
    for (const auto& day : fs::directory_iterator(dir_ / "archive")) {
      for (const auto& f : fs::directory_iterator(day.path())) {
        out[f.path().filename().string()] = slurp(f.path());
      }
    }
    return out;
  }
  // Candidate files still in the dropzone.
  std::vector<std::string> waiting() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(drop_)) {
      if (e.is_regular_file() && is_candidate_name(e.path().filename().string())) {
        out.push_back(e.path().filename().string());
      }
    }
    return out;
  }

  // A collector on this test's folders, started (stopped at the end of the test, before fake_
  // goes).
  Collector& run(const CollectorOptions& o) {
    collectors_.push_back(std::make_unique<Collector>(o, fake_.processor()));
    const Status started = collectors_.back()->start();
    EXPECT_TRUE(started.ok()) << started.to_string();
    return *collectors_.back();
  }

  fs::path dir_, drop_;
  FakeProcessor fake_;
  std::vector<std::unique_ptr<Collector>> collectors_;
};

TEST(CollectorNames, CandidatesAreVisibleFilesWithoutATemporarySuffix) {
  EXPECT_TRUE(is_candidate_name("night1.h5"));
  EXPECT_TRUE(is_candidate_name("part"));
  EXPECT_TRUE(is_candidate_name("x.part.h5"));
  for (const char* no : {"", ".night1.h5", ".work", "a.part", "a.tmp", "a.partial", "a.crdownload"})
    EXPECT_FALSE(is_candidate_name(no)) << no;
  EXPECT_EQ(suffixed_name("night.h5", 0), "night.h5");
  EXPECT_EQ(suffixed_name("night.h5", 2), "night-2.h5");
  EXPECT_EQ(suffixed_name("night.tar.gz", 1), "night.tar-1.gz");
  EXPECT_EQ(suffixed_name("archive", 3), "archive-3");
}

TEST_F(CollectorTest, FilesRenamedOrWrittenInAreProcessedOnceAndArchived) {
  // Rescans far apart: after the first, only inotify can find the files.
  Collector& c = run(options("a", 60s));
  ASSERT_TRUE(wait_for([&] { return c.idle(); }));
  drop_by_rename("renamed.h5", "R");
  drop_by_write("written.h5", "W");
  ASSERT_TRUE(wait_for([&] { return c.stats().stored == 2 && c.idle(); }));
  EXPECT_EQ(fake_.count("renamed.h5"), 1);
  EXPECT_EQ(fake_.count("written.h5"), 1);
  EXPECT_EQ(fake_.contents["written.h5"], "W");
  const std::map<std::string, std::string> want{{"renamed.h5", "R"}, {"written.h5", "W"}};
  EXPECT_EQ(archived(), want);
  EXPECT_TRUE(waiting().empty());
  EXPECT_TRUE(fs::is_empty(c.work_dir()));
  EXPECT_EQ(c.stats().claimed, 2u);
  c.stop();
  EXPECT_EQ(c.work_dir(), drop_ / ".work" / "a");
}

TEST_F(CollectorTest, HiddenTemporaryAndNonRegularEntriesAreLeftAlone) {
  for (const char* name : {".hidden.h5", "a.part", "b.tmp", "c.partial", "d.crdownload"})
    drop_by_write(name, "x");
  fs::create_directory(drop_ / "folder.h5");
  drop_by_write("../outside.h5", "x");
  fs::create_symlink(dir_ / "outside.h5", drop_ / "link.h5");
  Collector& c = run(options("a", 20ms));
  for (int i = 0; i < 5; ++i) c.rescan_now();
  ASSERT_TRUE(wait_for([&] { return c.idle(); }));
  EXPECT_TRUE(fake_.calls.empty());
  EXPECT_EQ(c.stats().claimed, 0u);
  EXPECT_TRUE(fs::exists(drop_ / "a.part"));
  EXPECT_TRUE(fs::is_symlink(drop_ / "link.h5"));
}

TEST_F(CollectorTest, ABadFileGoesToQuarantineBesideItsReason) {
  Collector& c = run(options("a", 60s));
  drop_by_rename("bad.h5", "first");
  ASSERT_TRUE(wait_for([&] { return c.stats().quarantined == 1 && c.idle(); }));
  drop_by_rename("bad.h5", "second");
  ASSERT_TRUE(wait_for([&] { return c.stats().quarantined == 2 && c.idle(); }));
  const fs::path q = dir_ / "quarantine";
  EXPECT_EQ(slurp(q / "bad.h5"), "first");
  EXPECT_EQ(slurp(q / "bad-1.h5"), "second");  // never overwritten
  const std::string reason = slurp(q / "bad.h5.reason");
  EXPECT_NE(reason.find("reason: not an HDF5 file\n"), std::string::npos) << reason;
  EXPECT_NE(reason.find("collector: a\n"), std::string::npos) << reason;
  EXPECT_NE(reason.find("file: bad.h5\n"), std::string::npos) << reason;
  EXPECT_NE(reason.find("time: 20"), std::string::npos) << reason;
  EXPECT_NE(slurp(q / "bad-1.h5.reason").find("file: bad.h5\n"), std::string::npos);
  EXPECT_TRUE(archived().empty());
  EXPECT_TRUE(waiting().empty());
}

TEST_F(CollectorTest, StoredAndDuplicateFilesAreArchivedWithoutOverwriting) {
  Collector& c = run(options("a", 60s));
  drop_by_rename("night.h5", "one");
  ASSERT_TRUE(wait_for([&] { return c.stats().stored == 1 && c.idle(); }));
  drop_by_rename("night.h5", "two");
  drop_by_rename("dup.h5", "three");
  ASSERT_TRUE(wait_for([&] { return finished(c.stats()) == 3 && c.idle(); }));
  EXPECT_EQ(c.stats().duplicates, 1u);
  const std::map<std::string, std::string> want{
      {"night.h5", "one"}, {"night-1.h5", "two"}, {"dup.h5", "three"}};
  EXPECT_EQ(archived(), want);
}

TEST_F(CollectorTest, WithoutArchivingProcessedFilesAreDeleted) {
  CollectorOptions o = options("a", 60s);
  o.archive_processed = false;
  Collector& c = run(o);
  drop_by_rename("night.h5", "one");
  drop_by_rename("dup.h5", "two");
  drop_by_rename("bad.h5", "three");
  ASSERT_TRUE(wait_for([&] { return finished(c.stats()) == 3 && c.idle(); }));
  EXPECT_TRUE(archived().empty());
  EXPECT_TRUE(waiting().empty());
  EXPECT_TRUE(fs::is_empty(c.work_dir()));
  EXPECT_TRUE(fs::exists(dir_ / "quarantine" / "bad.h5"));  // a bad file is kept all the same
}

TEST_F(CollectorTest, ARetriedFileGoesBackAndIsTriedAgainAfterABackOff) {
  fake_.retries_left["night.h5"] = 2;
  Collector& c = run(options("a", 20ms));
  drop_by_rename("night.h5", "N");
  drop_by_rename("throw.h5", "T");  // a processor that throws: taken as a retry
  ASSERT_TRUE(wait_for([&] { return c.stats().stored == 2 && c.idle(); }));
  EXPECT_EQ(fake_.count("night.h5"), 3);
  EXPECT_EQ(fake_.count("throw.h5"), 2);
  EXPECT_EQ(c.stats().retried, 3u);
  const auto& t = fake_.times["night.h5"];
  EXPECT_GE(t[1] - t[0], 100ms);  // retry_backoff
  EXPECT_GE(t[2] - t[1], 200ms);  // doubled
  const std::map<std::string, std::string> want{{"night.h5", "N"}, {"throw.h5", "T"}};
  EXPECT_EQ(archived(), want);
}

TEST_F(CollectorTest, AFileStillBeingWrittenIsNotTakenUntilItIsClosed) {
  Collector& c = run(options("a", 60s));
  const int fd = ::open((drop_ / "night.h5").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "first half,", 11), 11);
  for (int i = 0; i < 5; ++i) {
    c.rescan_now();
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(c.stats().claimed, 0u);
  EXPECT_EQ(fake_.count("night.h5"), 0);
  EXPECT_TRUE(fs::exists(drop_ / "night.h5"));
  ASSERT_EQ(::write(fd, " second half", 12), 12);
  ::close(fd);
  // No rescan before a minute: inotify's close event gives it.
  ASSERT_TRUE(wait_for([&] { return c.stats().stored == 1 && c.idle(); }));
  EXPECT_EQ(fake_.contents["night.h5"], "first half, second half");
}

TEST_F(CollectorTest, WithoutLeasesAFileIsTakenOnceItHasSettled) {
  CollectorOptions o = options("a", 60s);
  o.lease_check = false;
  Collector& c = run(o);
  const int fd = ::open((drop_ / "night.h5").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 8; ++i) {  // growing for longer than settle (200 ms)
    ASSERT_EQ(::write(fd, "chunk;", 6), 6);
    c.rescan_now();
    std::this_thread::sleep_for(40ms);
  }
  EXPECT_EQ(c.stats().claimed, 0u);
  // Still open, but no longer changing: taken by a rescan once settled.
  EXPECT_TRUE(wait_for([&] {
    c.rescan_now();
    std::this_thread::sleep_for(20ms);
    return c.stats().stored == 1;
  }));
  ::close(fd);
  ASSERT_TRUE(wait_for([&] { return c.idle(); }));
  EXPECT_EQ(fake_.contents["night.h5"].size(), 48u);
}

TEST_F(CollectorTest, TwoCollectorsOnOneFolderProcessEachOf200FilesExactlyOnce) {
  for (int i = 0; i < 100; ++i) drop_by_write("early-" + std::to_string(i) + ".h5", "e");
  Collector& a = run(options("a", 50ms));
  Collector& b = run(options("b", 50ms));
  for (int i = 0; i < 100; ++i) drop_by_rename("late-" + std::to_string(i) + ".h5", "l");
  ASSERT_TRUE(wait_for(
      [&] { return a.stats().stored + b.stats().stored >= 200 && a.idle() && b.idle(); }, 120s));
  a.stop();
  b.stop();
  EXPECT_EQ(a.stats().stored + b.stats().stored, 200u);
  EXPECT_EQ(a.stats().claimed + b.stats().claimed, 200u);
  EXPECT_EQ(fake_.calls.size(), 200u);
  for (const auto& [name, n] : fake_.calls) EXPECT_EQ(n, 1) << name;
  EXPECT_EQ(archived().size(), 200u);  // and none under a suffixed name: each went once
  EXPECT_TRUE(waiting().empty());
  std::cout << "a: " << a.stats().stored << " stored, " << a.stats().lost_races
            << " lost races; b: " << b.stats().stored << " stored, " << b.stats().lost_races
            << " lost races\n";
}

TEST_F(CollectorTest, WhatADeadCollectorLeftInItsWorkDirectoryComesBack) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);  // a pid no process has now
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  const fs::path work = drop_ / ".work";
  const fs::path dead = work / (std::string(host) + "-" + std::to_string(child));
  const fs::path alive = work / (std::string(host) + "-1");
  const fs::path elsewhere = work / ("another-host-" + std::to_string(child));
  for (const fs::path& d : {dead, alive, elsewhere, work / "me"}) fs::create_directories(d);
  std::ofstream(dead / "dead.h5") << "D";
  std::ofstream(work / "me" / "own.h5") << "O";
  std::ofstream(alive / "alive.h5") << "A";
  std::ofstream(elsewhere / "other.h5") << "X";

  Collector& c = run(options("me", 60s));
  ASSERT_TRUE(wait_for([&] { return c.stats().stored == 2 && c.idle(); }));
  EXPECT_EQ(c.stats().recovered, 2u);
  EXPECT_EQ(fake_.count("dead.h5"), 1);
  EXPECT_EQ(fake_.count("own.h5"), 1);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(alive / "alive.h5"));  // pid 1 runs
  EXPECT_TRUE(fs::exists(elsewhere / "other.h5"));
}

TEST_F(CollectorTest, StopFinishesTheFilesInHandAndLeavesTheRest) {
  Collector& c = run(options("a", 60s));
  drop_by_rename("slow.h5", "S");
  ASSERT_TRUE(wait_for([&] { return fake_.count("slow.h5") == 1; }));
  c.stop();
  EXPECT_EQ(c.stats().stored, 1u);
  EXPECT_EQ(archived().count("slow.h5"), 1u);
  drop_by_rename("late.h5", "L");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(waiting(), std::vector<std::string>{"late.h5"});
  EXPECT_EQ(fake_.count("late.h5"), 0);
}

TEST_F(CollectorTest, UnusableOptionsAreRefusedAtStart) {
  CollectorOptions o = options("a/b", 60s);
  EXPECT_EQ(Collector(o, fake_.processor()).start().code(), ErrorCode::kInvalidArgument);
  o = options(".a", 60s);
  EXPECT_EQ(Collector(o, fake_.processor()).start().code(), ErrorCode::kInvalidArgument);
  o = options("", 60s);
  Collector& c = run(o);
  EXPECT_EQ(c.id(), c.options().id);
  EXPECT_NE(c.id().find("-" + std::to_string(::getpid())), std::string::npos) << c.id();
}

}  // namespace
}  // namespace vigil::records
