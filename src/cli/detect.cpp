// vigil detect --nab DATA_DIR --out OUT_DIR: the streaming NAB detector (detect/nab_detector.h)
// over every `timestamp,value` CSV below DATA_DIR, written as NAB's results layout:
// OUT_DIR/<path below DATA_DIR>/vigil_<file>.csv with `timestamp,value,anomaly_score`.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "cli/common.h"
#include "cli/nab_csv.h"
#include "detect/nab_detector.h"

namespace vigil::cli {
namespace {
namespace fs = std::filesystem;

Status read_file(const fs::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unavailable("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return unavailable("cannot read " + path.string());
  out = std::move(s).str();
  return {};
}

// Scores one series as NAB's harness runs a detector: min and max of the file, probationary
// length from its row count, one value at a time.
std::vector<double> score_series(const std::vector<NabRow>& rows, const detect::NabParams& params) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& r : rows) {
    if (std::isfinite(r.number)) {
      lo = std::min(lo, r.number);
      hi = std::max(hi, r.number);
    }
  }
  if (!(lo <= hi)) lo = hi = 0;
  detect::NabDetector detector(
      {.min = lo, .max = hi, .probation = detect::nab_probation(std::ssize(rows))}, params);
  std::vector<double> scores;
  scores.reserve(rows.size());
  for (const auto& r : rows) scores.push_back(detector.push(r.number));
  return scores;
}

Status detect_file(const fs::path& in, const fs::path& out, const detect::NabParams& params,
                   size_t& rows_done) {
  std::string text;
  if (Status s = read_file(in, text); !s.ok()) return s;
  auto rows = parse_nab_csv(text);
  if (!rows.ok()) return invalid_argument(in.string() + ": " + rows.status().message());
  const std::string body = write_nab_scores(*rows, score_series(*rows, params));
  std::error_code ec;
  fs::create_directories(out.parent_path(), ec);
  if (ec) return unavailable("cannot create " + out.parent_path().string() + ": " + ec.message());
  std::ofstream o(out, std::ios::binary | std::ios::trunc);
  o.write(body.data(), static_cast<std::streamsize>(body.size()));
  o.close();
  if (!o) return unavailable("cannot write " + out.string());
  rows_done += rows->size();
  return {};
}

int run_nab(const fs::path& data, const fs::path& out, const detect::NabParams& params) {
  std::error_code ec;
  if (!fs::is_directory(data, ec)) {
    std::fprintf(stderr, "vigil detect: %s is not a directory\n", data.c_str());
    return 2;
  }
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(data, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".csv") files.push_back(it->path());
  }
  if (ec) {
    std::fprintf(stderr, "vigil detect: %s: %s\n", data.c_str(), ec.message().c_str());
    return 1;
  }
  std::sort(files.begin(), files.end());
  size_t rows = 0, failed = 0;
  int code = 0;
  for (const auto& f : files) {
    const fs::path rel = fs::relative(f, data);
    const fs::path target = out / rel.parent_path() / ("vigil_" + rel.filename().string());
    if (Status s = detect_file(f, target, params, rows); !s.ok()) {
      std::fprintf(stderr, "vigil detect: %s\n", s.message().c_str());
      ++failed;
      code = std::max(code, s.code() == ErrorCode::kInvalidArgument ? 2 : 1);
    }
  }
  std::printf("%zu files, %zu rows scored into %s%s\n", files.size() - failed, rows, out.c_str(),
              failed ? (", " + std::to_string(failed) + " failed").c_str() : "");
  return code;
}

}  // namespace

void add_detect_command(CLI::App& app, int& exit_code) {
  static std::string nab_dir, out_dir;
  static detect::NabParams params;
  auto* cmd = app.add_subcommand(
      "detect",
      "Offline anomaly detection. --nab: score every timestamp,value CSV below a directory with "
      "the streaming NAB detector (src/detect/nab_detector.h), for NAB's scorer");
  cmd->add_option("--nab", nab_dir,
                  "A NAB data dir: every *.csv below it (header timestamp,value) is scored")
      ->required();
  cmd->add_option("--out", out_dir,
                  "Results dir: OUT/<path below the data dir>/vigil_<file>.csv with "
                  "timestamp,value,anomaly_score, one row per input row, score in [0, 1]")
      ->required();
  // The detector's tunables (defaults: the ones tuned on NAB), for experiments.
  auto* tune = cmd->add_option_group("detector", "The detector's tunables (defaults tuned on NAB)");
  tune->add_option("--window", params.window,
                   "Matrix-profile window, as a fraction of the probationary length");
  tune->add_option("--trigger", params.trigger,
                   "Novelty (distance over the largest seen) that raises an alarm");
  tune->add_option("--refractory", params.refractory,
                   "After an alarm, as a fraction of the probationary length, only stronger "
                   "novelty scores");
  tune->add_option("--range-tolerance", params.range_tolerance,
                   "A value beyond the running range by this fraction of it scores 1");
  cmd->callback([&exit_code] {
    try {
      exit_code = run_nab(nab_dir, out_dir, params);
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "vigil detect: %s\n", e.what());
      exit_code = 2;
    }
  });
}

}  // namespace vigil::cli
