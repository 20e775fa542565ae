// vigil_detect_bench: times src/detect for BENCHMARKS.md S5 and S6 (bench/README.md).
//   s5  self_join of a random walk (default n = 65 536, m = 256, z-normalised, 2 threads);
//       cells/s counts (n - m + 1)^2 / 2 cells, the whole upper triangle, whatever the exclusion
//   s6  one point to each of N sensors' IncrementalProfile (default 10 000, window 144, history
//       2 048, non-normalised), round after round; points/s and per-point latency, and the
//       memory traffic that implies next to a memcpy's on this machine
// Progress and the tables go to stderr; one JSON line per scenario goes to stdout.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "detect/incremental_profile.h"
#include "detect/kernels.h"
#include "detect/matrix_profile.h"

namespace {
using Clock = std::chrono::steady_clock;
using vigil::detect::IncrementalOptions;
using vigil::detect::IncrementalProfile;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<double> random_walk(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> step(0.0, 1.0);
  std::vector<double> t(n);
  double x = 0;
  for (auto& v : t) v = (x += step(rng));
  return t;
}

struct S5 {
  int64_t n = 65536;
  int m = 256;
  int exclusion = -1;  // -1: m / 4 rounded up, STUMPY's default, for the side-by-side
  int threads = 2;
  int runs = 3;
  bool normalize = true;
};

void run_s5(const S5& o) {
  const auto t = random_walk(o.n, 1);
  const int e = o.exclusion >= 0 ? o.exclusion : (o.m + 3) / 4;
  const double l = static_cast<double>(o.n - o.m + 1);
  const double cells = l * l / 2;
  std::vector<double> secs;
  for (int r = 0; r < o.runs; ++r) {
    const auto t0 = Clock::now();
    const auto p = vigil::detect::self_join(
        t, o.m, {.normalize = o.normalize, .exclusion = e, .threads = o.threads});
    secs.push_back(seconds_since(t0));
    if (p.distance.size() != static_cast<size_t>(l)) std::abort();
    std::fprintf(stderr, "s5 run %d: %.3f s\n", r + 1, secs.back());
  }
  std::sort(secs.begin(), secs.end());
  const double best = secs.front(), median = secs[secs.size() / 2];
  std::fprintf(stderr,
               "S5 self_join n=%lld m=%d exclusion=%d %s threads=%d kernels=%s: median %.3f s "
               "(best %.3f), %.3g cells/s (cells = (n-m+1)^2/2)\n",
               static_cast<long long>(o.n), o.m, e, o.normalize ? "z-normalised" : "euclidean",
               o.threads, vigil::detect::detail::kernels().name, median, best, cells / median);
  std::printf(
      "{\"scenario\":\"S5\",\"n\":%lld,\"m\":%d,\"exclusion\":%d,\"normalize\":%s,"
      "\"threads\":%d,\"kernels\":\"%s\",\"seconds_median\":%.6f,\"seconds_best\":%.6f,"
      "\"cells\":%.0f,\"cells_per_s\":%.6g}\n",
      static_cast<long long>(o.n), o.m, e, o.normalize ? "true" : "false", o.threads,
      vigil::detect::detail::kernels().name, median, best, cells, cells / median);
  std::fflush(stdout);
}

struct S6 {
  int sensors = 10000;
  int window = 144;
  int history = 2048;
  int rounds = 5;
  int threads = 1;
  bool normalize = false;
};

// Bytes a memcpy moves per second here (read + write), over a buffer far larger than the caches.
double memcpy_bandwidth() {
  const size_t bytes = size_t{256} << 20;
  std::vector<char> a(bytes, 1), b(bytes, 2);
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    const auto t0 = Clock::now();
    std::memcpy(b.data(), a.data(), bytes);
    best = std::max(best, 2.0 * bytes / seconds_since(t0));
  }
  if (b[bytes / 2] != 1) std::abort();
  return best;
}

void run_s6(const S6& o) {
  const IncrementalOptions io{.window = o.window, .history = o.history, .normalize = o.normalize};
  // One sensor with a full history, copied to every sensor: the steady state, without
  // replaying history into each.
  IncrementalProfile warm(io);
  for (double v : random_walk(3 * o.history, 2)) warm.push(v);
  std::vector<IncrementalProfile> sensors(o.sensors, warm);
  const auto feed = random_walk(static_cast<int64_t>(o.rounds) * o.sensors, 3);
  const int threads = std::max(1, o.threads);
  std::vector<std::vector<double>> latencies(threads);
  std::vector<double> sink(threads, 0);
  const auto t0 = Clock::now();
  auto work = [&](int t) {
    auto& lat = latencies[t];
    lat.reserve(static_cast<size_t>(o.rounds) * o.sensors / threads + 1);
    // A contiguous block of sensors per thread: neighbours' object headers share cache lines.
    const int first = static_cast<int>(int64_t{o.sensors} * t / threads);
    const int last = static_cast<int>(int64_t{o.sensors} * (t + 1) / threads);
    for (int r = 0; r < o.rounds; ++r) {
      for (int s = first; s < last; ++s) {
        const auto p0 = Clock::now();
        sink[t] += sensors[s].push(feed[static_cast<size_t>(r) * o.sensors + s]);
        lat.push_back(std::chrono::duration<double>(Clock::now() - p0).count());
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  const double secs = seconds_since(t0);
  std::vector<double> lat;
  for (auto& l : latencies) lat.insert(lat.end(), l.begin(), l.end());
  std::sort(lat.begin(), lat.end());
  const double points = static_cast<double>(o.rounds) * o.sensors;
  const double p50 = lat[lat.size() / 2] * 1e6, p99 = lat[lat.size() * 99 / 100] * 1e6;
  // Per point: the lag sums read and written, the history read (window + exclusion fewer lags).
  const double lags = o.history - o.window - (o.window / 2);
  const double bytes_per_point = 8 * (2 * lags + o.history);
  const double bw = memcpy_bandwidth();
  std::fprintf(stderr,
               "S6 incremental %d sensors window=%d history=%d %s threads=%d kernels=%s: "
               "%.0f points/s, latency p50 %.2f us p99 %.2f us; state %zu B/sensor; "
               "%.1f GB/s of state traffic (%.0f B/point) vs memcpy %.1f GB/s\n",
               o.sensors, o.window, o.history, o.normalize ? "z-normalised" : "euclidean", threads,
               vigil::detect::detail::kernels().name, points / secs, p50, p99, warm.state_bytes(),
               points / secs * bytes_per_point / 1e9, bytes_per_point, bw / 1e9);
  std::printf(
      "{\"scenario\":\"S6\",\"sensors\":%d,\"window\":%d,\"history\":%d,\"normalize\":%s,"
      "\"threads\":%d,\"kernels\":\"%s\",\"points_per_s\":%.6g,\"latency_p50_us\":%.3f,"
      "\"latency_p99_us\":%.3f,\"state_bytes_per_sensor\":%zu,\"traffic_gb_per_s\":%.3f,"
      "\"memcpy_gb_per_s\":%.3f,\"checksum\":%.6g}\n",
      o.sensors, o.window, o.history, o.normalize ? "true" : "false", threads,
      vigil::detect::detail::kernels().name, points / secs, p50, p99, warm.state_bytes(),
      points / secs * bytes_per_point / 1e9, bw / 1e9, sink[0]);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vigil_detect_bench: S5 and S6 (bench/README.md)"};
  app.require_subcommand(1);
  S5 s5;
  auto* c5 = app.add_subcommand("s5", "matrix-profile self-join of a random walk");
  c5->add_option("--n", s5.n, "series length")->check(CLI::Range(int64_t{4}, int64_t{1} << 30));
  c5->add_option("--m", s5.m, "window")->check(CLI::Range(3, 1 << 20));
  c5->add_option("--exclusion", s5.exclusion, "exclusion zone (-1: ceil(m/4), STUMPY's)");
  c5->add_option("--threads", s5.threads, "threads (0: one per hardware thread)");
  c5->add_option("--runs", s5.runs, "timed runs (the median is reported)")
      ->check(CLI::Range(1, 100));
  c5->add_flag("!--euclidean", s5.normalize, "non-normalised distances");
  S6 s6;
  auto* c6 = app.add_subcommand("s6", "incremental left profile over many sensors");
  c6->add_option("--sensors", s6.sensors, "sensors")->check(CLI::Range(1, 10000000));
  c6->add_option("--window", s6.window, "window")->check(CLI::Range(3, 1 << 20));
  c6->add_option("--history", s6.history, "history points")->check(CLI::Range(4, 1 << 24));
  c6->add_option("--rounds", s6.rounds, "points per sensor")->check(CLI::Range(1, 1000000));
  c6->add_option("--threads", s6.threads, "threads")->check(CLI::Range(1, 256));
  c6->add_flag("--normalize", s6.normalize, "z-normalised distances");
  std::string kernels;
  app.add_option("--kernels", kernels, "sse2, avx2 or avx512 (default: the widest the CPU runs)");
  CLI11_PARSE(app, argc, argv);
  for (const auto* k : vigil::detect::detail::supported_kernels()) {
    if (kernels == k->name) vigil::detect::detail::force_kernels(k);
  }
  if (!kernels.empty() && kernels != vigil::detect::detail::kernels().name) {
    std::fprintf(stderr, "vigil_detect_bench: kernels %s: not known or not supported here\n",
                 kernels.c_str());
    return 2;
  }
  try {
    if (c5->parsed()) run_s5(s5);
    if (c6->parsed()) run_s6(s6);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vigil_detect_bench: %s\n", e.what());
    return 2;
  }
  return 0;
}
