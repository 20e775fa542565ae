// vigil simulate --csv FILE --sensor NAME --speed 600x: replays a recorded series into a running
// server as a device would send it, faster than it happened (docs/http/telemetry.md). Reads the
// leak-detection format (`index,Time,Values`, the first column's name may be empty) and NAB's
// (`timestamp,value`); times without a zone are UTC.
#include <boost/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <thread>

#include "cli/remote.h"
#include "core/ids.h"

namespace vigil::cli {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;
using SteadyClock = std::chrono::steady_clock;

struct SimulateArgs {
  RemoteOptions remote;
  std::string csv;
  std::string sensor;
  std::string speed = "600x";
  bool now = false;
  int batch = 1000;
};

struct Reading {
  int64_t at_ms;
  double value;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ',') {
      out.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// The readings of the file; prints why and returns false when it cannot be read.
bool read_readings(const std::string& path, std::vector<Reading>& out, size_t& skipped) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "vigil: cannot read %s\n", path.c_str());
    return false;
  }
  std::string line;
  if (!std::getline(in, line)) {
    std::fprintf(stderr, "vigil: %s is empty\n", path.c_str());
    return false;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  int time_col = -1, value_col = -1;
  const auto header = split(line);
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string h = lower(header[i]);
    if (h == "time" || h == "timestamp" || h == "at") time_col = static_cast<int>(i);
    if (h == "values" || h == "value") value_col = static_cast<int>(i);
  }
  if (time_col < 0 || value_col < 0) {
    std::fprintf(stderr,
                 "vigil: %s: the first line names no time and value columns (index,Time,Values "
                 "or timestamp,value)\n",
                 path.c_str());
    return false;
  }
  size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto cells = split(line);
    if (cells.size() <= static_cast<size_t>(std::max(time_col, value_col))) {
      std::fprintf(stderr, "vigil: %s line %zu: too few columns\n", path.c_str(), line_no);
      return false;
    }
    std::string at = cells[static_cast<size_t>(time_col)];
    if (at.size() == 19) at += 'Z';  // "2020-09-30 12:30:00": UTC
    auto t = parse_timestamp(at);
    if (!t) {
      std::fprintf(stderr, "vigil: %s line %zu: '%s' is no time\n", path.c_str(), line_no,
                   cells[static_cast<size_t>(time_col)].c_str());
      return false;
    }
    const std::string& v = cells[static_cast<size_t>(value_col)];
    char* end = nullptr;
    const double value = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0') {
      std::fprintf(stderr, "vigil: %s line %zu: '%s' is no number\n", path.c_str(), line_no,
                   v.c_str());
      return false;
    }
    if (!std::isfinite(value)) {
      ++skipped;  // inf, nan: no reading
      continue;
    }
    out.push_back(
        {std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count(),
         value});
  }
  return true;
}

// "600x" or "600": that many times faster than recorded; "max": as fast as the server takes it.
std::optional<double> parse_speed(std::string s) {
  if (s == "max") return 0.0;
  if (!s.empty() && (s.back() == 'x' || s.back() == 'X')) s.pop_back();
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v > 0) || !std::isfinite(v)) return std::nullopt;
  return v;
}

void simulate(SimulateArgs& a, int& exit_code) {
  auto speed = parse_speed(a.speed);
  if (!speed) {
    std::fprintf(stderr, "vigil: --speed expects a factor (600x) or max, got '%s'\n",
                 a.speed.c_str());
    exit_code = 2;
    return;
  }
  std::vector<Reading> readings;
  size_t skipped = 0;
  if (!read_readings(a.csv, readings, skipped)) {
    exit_code = 2;
    return;
  }
  if (readings.empty()) {
    std::fprintf(stderr, "vigil: %s holds no readings\n", a.csv.c_str());
    exit_code = 2;
    return;
  }
  const int64_t t0 = readings.front().at_ms;
  const int64_t shift = a.now ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                        .count() -
                                    t0
                              : 0;
  const auto started = SteadyClock::now();
  // When a reading is due: its time since the first, `speed` times faster.
  auto due = [&](const Reading& r) {
    if (*speed == 0) return started;
    return started + std::chrono::duration_cast<SteadyClock::duration>(
                         std::chrono::duration<double, std::milli>((r.at_ms - t0) / *speed));
  };
  size_t next = 0, sent = 0;
  while (next < readings.size()) {
    std::this_thread::sleep_until(
        std::min(due(readings[next]), SteadyClock::now() + std::chrono::milliseconds(100)));
    json::array points;
    const auto now = SteadyClock::now();
    while (next < readings.size() && due(readings[next]) <= now &&
           points.size() < static_cast<size_t>(a.batch)) {
      points.push_back(json::array{readings[next].at_ms + shift, readings[next].value});
      ++next;
    }
    if (points.empty()) continue;
    const size_t n = points.size();
    auto r = call(a.remote, verb::post, "/api/v1/telemetry", exit_code,
                  json::object{{"sensor", a.sensor}, {"points", std::move(points)}});
    if (!r) {
      std::fprintf(stderr, "vigil: stopped after %zu readings\n", sent);
      return;
    }
    sent += n;
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  std::printf("sent %zu readings of %s to %s in %.1f s\n", sent, a.csv.c_str(), a.sensor.c_str(),
              seconds);
  if (skipped > 0) std::fprintf(stderr, "skipped %zu readings that are inf or nan\n", skipped);
}

}  // namespace

void add_simulate_command(CLI::App& app, int& exit_code) {
  static SimulateArgs a;
  auto* cmd = app.add_subcommand(
      "simulate",
      "Replay a recorded series (index,Time,Values as the leak sensors' files, or NAB's "
      "timestamp,value) into a running server's sensor, faster than it happened");
  cmd->add_option("--csv", a.csv, "The recorded series")->required();
  cmd->add_option("--sensor", a.sensor, "The sensor (made already) its readings go to")->required();
  cmd->add_option("--speed", a.speed, "600x: ten minutes a second; max: as fast as it goes")
      ->capture_default_str();
  cmd->add_flag("--now", a.now,
                "Shift the times so that the first reading is now (the others keep their "
                "spacing, so at 600x they run ahead of the clock)");
  cmd->add_option("--batch", a.batch, "Readings per request at most (default 1000)")
      ->check(CLI::Range(1, 100'000));
  add_remote_options(*cmd, a.remote);
  cmd->callback([&exit_code] { simulate(a, exit_code); });
}

}  // namespace vigil::cli
