#include "runtime/isolated_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "runtime/test_util.h"
#include "support/temp_db.h"

namespace vigil::runtime {
namespace {

using namespace std::chrono_literals;
using testing::data_path;
using testing::read_file;

// Runtimes that misbehave the way a hostile file can make a third-party parser misbehave.
class CrashingRuntime final : public Runtime {
 public:
  std::string_view kind() const override { return "crash"; }
  Expected<std::unique_ptr<LoadedModel>> load(std::string_view,
                                              const boost::json::object&) const override {
    std::abort();
  }
};

class HangingRuntime final : public Runtime {
 public:
  std::string_view kind() const override { return "hang"; }
  Expected<std::unique_ptr<LoadedModel>> load(std::string_view,
                                              const boost::json::object&) const override {
    for (;;) std::this_thread::sleep_for(1s);
  }
};

// When this test binary is started as `<self> __model-check <kind>` it is the child of
// check_model_isolated (gtest_main owns main(), so this runs from a static initialiser):
// it serves the default runtimes plus the misbehaving ones, then exits.
struct ChildMode {
  ChildMode() {
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> args;
    std::stringstream split(cmdline);
    for (std::string arg; std::getline(split, arg, '\0');) args.push_back(arg);
    if (args.size() == 3 && args[1] == "__model-check") {
      auto runtimes = default_runtimes();
      runtimes->add(std::make_unique<CrashingRuntime>());
      runtimes->add(std::make_unique<HangingRuntime>());
      int code = model_check_main(*runtimes, args[2]);
      std::cout.flush();
      std::_Exit(code);
    }
  }
};
const ChildMode child_mode;

std::string self_exe() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).string();
}

// ---- the parent side against scripted children

std::vector<std::string> sh(const std::string& script) { return {"/bin/sh", "-c", script, "sh"}; }

TEST(IsolatedCheckTest, ExitZeroGivesTheSummary) {
  auto r = check_model_isolated(
      sh(R"(cat >/dev/null; echo '{"num_features":30,"row_output_shape":[3]}')"), "xgboost",
      "bytes", "{}", 10s);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->num_features, 30u);
  EXPECT_EQ(r->row_output_shape, (std::vector<int64_t>{3}));
}

TEST(IsolatedCheckTest, TheChildGetsTheFramingOnStdinAndTheKindAsArgument) {
  auto dir = vigil::testing::make_temp_dir();
  ASSERT_FALSE(dir.empty());
  const std::string in_file = (dir / "stdin").string();
  const std::string kind_file = (dir / "kind").string();
  std::string bytes(3 << 20, '\0');  // larger than any pipe buffer
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  auto r = check_model_isolated(sh("cat > '" + in_file + "'; echo \"$1\" > '" + kind_file +
                                   "'; echo '{\"num_features\":0,\"row_output_shape\":[]}'"),
                                "linear", bytes, R"({"a":1})", 20s);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(read_file(in_file), "7\n{\"a\":1}" + bytes);
  EXPECT_EQ(read_file(kind_file), "linear\n");
  std::filesystem::remove_all(dir);
}

TEST(IsolatedCheckTest, ExitTwoGivesTheRuntimesReason) {
  auto r = check_model_isolated(
      sh(R"(cat >/dev/null; echo '{"error":"weights[2]: must be a finite number"}'; exit 2)"),
      "linear", "x", "", 10s);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "weights[2]: must be a finite number");
  auto silent = check_model_isolated(sh("exit 2"), "linear", "x", "", 10s);
  EXPECT_EQ(silent.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(silent.status().message(), "the linear runtime rejected this file");
}

TEST(IsolatedCheckTest, ACrashIsAnInvalidFileNotAServerCrash) {
  for (const char* signal : {"SEGV", "ABRT", "KILL"}) {
    auto r = check_model_isolated(sh(std::string("kill -") + signal + " $$"), "xgboost",
                                  std::string(1 << 20, 'x'), "{}", 10s);
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << signal;
    EXPECT_EQ(r.status().message(), "the xgboost runtime could not load this file (it crashed)");
  }
}

TEST(IsolatedCheckTest, AHangingChildIsKilledAtTheTimeout) {
  const auto start = std::chrono::steady_clock::now();
  auto r = check_model_isolated(sh("sleep 30"), "xgboost", "x", "{}", 300ms);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "the xgboost runtime could not load this file (it timed out)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  // Also when it closed stdout but keeps running, and when it never reads its stdin.
  auto closed = check_model_isolated(sh("exec >&-; sleep 30"), "xgboost", "x", "{}", 300ms);
  EXPECT_EQ(closed.status().message(), isolated_check_failure_message("xgboost", true));
  auto stuck =
      check_model_isolated(sh("sleep 30"), "xgboost", std::string(8 << 20, 'x'), "{}", 300ms);
  EXPECT_EQ(stuck.status().message(), isolated_check_failure_message("xgboost", true));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(IsolatedCheckTest, AChildThatIgnoresItsInputStillAnswers) {
  auto r = check_model_isolated(sh(R"(echo '{"num_features":2,"row_output_shape":[]}')"), "linear",
                                std::string(8 << 20, 'x'), "{}", 10s);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->num_features, 2u);
}

TEST(IsolatedCheckTest, ExitOneCountsAsACrash) {
  // What ASan/UBSan end a process with after a report, and what abort-like failures use.
  auto r = check_model_isolated(sh("exit 1"), "xgboost", "x", "", 10s);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), isolated_check_failure_message("xgboost", false));
}

TEST(IsolatedCheckTest, OtherFailuresAreInternal) {
  auto failed = check_model_isolated(sh(R"(echo '{"error":"unknown model kind"}'; exit 3)"),
                                     "linear", "x", "", 10s);
  EXPECT_EQ(failed.status().code(), ErrorCode::kInternal);
  EXPECT_NE(failed.status().message().find("unknown model kind"), std::string::npos);
  EXPECT_EQ(check_model_isolated(sh("exit 109"), "linear", "x", "", 10s).status().code(),
            ErrorCode::kInternal);
  EXPECT_EQ(check_model_isolated(sh("echo nonsense"), "linear", "x", "", 10s).status().code(),
            ErrorCode::kInternal);
  EXPECT_EQ(
      check_model_isolated(std::vector<std::string>{"/nonexistent/vigil"}, "linear", "x", "", 10s)
          .status()
          .code(),
      ErrorCode::kInternal);
  EXPECT_EQ(
      check_model_isolated(std::vector<std::string>{}, "linear", "x", "", 10s).status().code(),
      ErrorCode::kInternal);
}

// ---- the child side, in process

int run_check(std::string_view kind, const std::string& input, std::string* output) {
  auto runtimes = default_runtimes();
  std::istringstream in(input);
  std::ostringstream out;
  int code = model_check_main(*runtimes, kind, in, out);
  *output = out.str();
  return code;
}

std::string framed(const std::string& metadata, const std::string& bytes) {
  return std::to_string(metadata.size()) + "\n" + metadata + bytes;
}

TEST(ModelCheckMainTest, PrintsTheSummaryOfAGoodModel) {
  std::string out;
  EXPECT_EQ(run_check("linear", framed("{}", R"({"weights":[1,2,3]})"), &out), 0);
  EXPECT_EQ(out, "{\"num_features\":3,\"row_output_shape\":[]}\n");
  EXPECT_EQ(
      run_check("xgboost", framed("", read_file(data_path("models/breast_cancer.ubj"))), &out), 0);
  EXPECT_EQ(out, "{\"num_features\":30,\"row_output_shape\":[]}\n");
  EXPECT_EQ(run_check("blank", framed(R"({"features":["a","b"]})", ""), &out), 0);
  EXPECT_EQ(out, "{\"num_features\":2,\"row_output_shape\":[]}\n");
}

TEST(ModelCheckMainTest, ABadModelExitsTwoWithTheReason) {
  std::string out;
  EXPECT_EQ(run_check("linear", framed("{}", R"({"weights":[]})"), &out), 2);
  EXPECT_EQ(out, "{\"error\":\"weights: must not be empty\"}\n");
  EXPECT_EQ(run_check("xgboost", framed("{}", "{\"not\":\"a model\"}"), &out), 2);
  EXPECT_NE(out.find("\"error\":\"not a valid XGBoost model"), std::string::npos) << out;
  EXPECT_EQ(run_check("linear", framed("[1]", R"({"weights":[1]})"), &out), 2);
  EXPECT_NE(out.find("metadata"), std::string::npos);
  EXPECT_EQ(run_check("linear", framed(R"({"features":["a"]})", R"({"weights":[1,2]})"), &out), 2);
}

TEST(ModelCheckMainTest, BadFramingOrKindExitsThree) {
  std::string out;
  EXPECT_EQ(run_check("linear", "", &out), kModelCheckFailed);
  EXPECT_EQ(run_check("linear", "x\n{}", &out), kModelCheckFailed);
  EXPECT_EQ(run_check("linear", "10\n{}", &out), kModelCheckFailed);
  EXPECT_EQ(run_check("tensorflow", framed("{}", ""), &out), kModelCheckFailed);
  EXPECT_NE(out.find("unknown model kind"), std::string::npos);
}

// ---- end to end: this binary as the child

TEST(IsolatedCheckEndToEndTest, RealRuntimesInAChildProcess) {
  const std::string exe = self_exe();
  ASSERT_FALSE(exe.empty());
  auto good = check_model_isolated(exe, "xgboost", read_file(data_path("models/diabetes.json")),
                                   R"({"description":"d"})", 60s);
  ASSERT_TRUE(good.ok()) << good.status().to_string();
  EXPECT_EQ(good->num_features, 10u);
  EXPECT_TRUE(good->row_output_shape.empty());

  auto bad = check_model_isolated(exe, "xgboost", "{\"learner\":", "{}", 60s);
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("not a valid XGBoost model"), std::string::npos)
      << bad.status().message();

  // libxgboost 1.7.4's UBJ reader reads past the end of a truncated buffer (ASan shows it):
  // such files are only ever parsed here, in the child.
  const std::string ubj = read_file(data_path("models/diabetes.ubj"));
  for (size_t cut : {ubj.size() / 3, ubj.size() - 1}) {
    auto truncated = check_model_isolated(exe, "xgboost", ubj.substr(0, cut), "{}", 60s);
    EXPECT_EQ(truncated.status().code(), ErrorCode::kInvalidArgument);
    std::printf("[ truncated] %zu bytes of UBJ: %s\n", cut, truncated.status().message().c_str());
  }
  std::mt19937 rng(3);
  for (int i = 0; i < 4; ++i) {
    std::string noise(64 + rng() % 4096, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    noise.replace(0, 2, "{L");
    auto r = check_model_isolated(exe, "xgboost", noise, "{}", 60s);
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  }

  auto crashed = check_model_isolated(exe, "crash", "x", "{}", 60s);
  EXPECT_EQ(crashed.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(crashed.status().message(), isolated_check_failure_message("crash", false));

  auto hung = check_model_isolated(exe, "hang", "x", "{}", 1500ms);
  EXPECT_EQ(hung.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(hung.status().message(), isolated_check_failure_message("hang", true));
}

// Damaged xgboost files: whatever libxgboost does with them in the child, the answer is "ok" or
// "invalid file" with a reason, and this process carries on.
TEST(IsolatedCheckEndToEndTest, DamagedXgboostFilesNeverTakeTheParentDown) {
  const std::string exe = self_exe();
  ASSERT_FALSE(exe.empty());
  const std::string original = read_file(data_path("models/breast_cancer.ubj"));
  std::mt19937 rng(7);
  int accepted = 0;
  for (int i = 0; i < 12; ++i) {
    std::string damaged = original;
    for (int flips = 0; flips < 1 + i * 4; ++flips) {
      damaged[1 + rng() % (damaged.size() - 1)] = static_cast<char>(rng());
    }
    auto r = check_model_isolated(exe, "xgboost", damaged, "{}", 60s);
    if (r.ok()) {
      ++accepted;
    } else {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << r.status().to_string();
      EXPECT_FALSE(r.status().message().empty());
      std::printf("[ damaged  ] #%d: %s\n", i, r.status().message().c_str());
    }
  }
  std::printf("[ damaged  ] %d of 12 damaged files still loaded\n", accepted);
}

}  // namespace
}  // namespace vigil::runtime
