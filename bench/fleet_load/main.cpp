// vigil_fleet_load: the WebSocket fleet load client of BENCHMARKS.md S7 and S8 (bench/README.md).
//   seed    make N devices with enrolled watchdogs over the API; write their tokens
//   hold    S7: hold N device sessions, then measure ping → pong round trips over all of them
//   agents  S8: hold N sessions as agents that carry out their commands (download, check,
//           applied, confirmed); report when the last one confirmed
// Results are JSON lines on stdout (the harness reads them), progress goes to stderr. With
// --wait-stdin the client waits for a line on stdin before measuring (hold) and for stdin's end
// before closing its sessions, so the harness can read the server while they are held.
#include <CLI/CLI.hpp>

#include <iostream>
#include <thread>

#include "common.h"
#include "fleet.h"
#include "ingest.h"
#include "seed.h"
#include "tasks.h"

namespace fleet_load {
namespace {

namespace json = boost::json;

struct RunOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string tokens;
  size_t sessions = 0;  // 0: every one in the tokens file
  int threads = 1;
  std::string first_source = "127.0.0.2";
  double connect_timeout_s = 600;
  double ping_interval_s = 20;
  double measure_s = 20;
  double rollout_timeout_s = 120;
  int rollouts = 1;
  bool wait_stdin = false;
  FleetOptions fleet;
};

// The shards, each on its own thread, until destroyed.
class Fleet {
 public:
  Fleet(const RunOptions& o, const std::vector<Credential>& creds, size_t n) {
    const int t = std::max(1, o.threads);
    std::vector<std::vector<FleetShard::Entry>> parts(static_cast<size_t>(t));
    for (size_t i = 0; i < n; ++i) parts[i % parts.size()].push_back({i, &creds[i]});
    FleetOptions fo = o.fleet;
    fo.connect_concurrency = std::max<size_t>(1, fo.connect_concurrency / parts.size());
    fo.download_connections = std::max<size_t>(1, fo.download_connections / parts.size());
    for (auto& p : parts) shards_.push_back(std::make_unique<FleetShard>(fo, counters, p));
    for (auto& s : shards_) {
      threads_.emplace_back([&ctx = s->context()] {
        auto guard = asio::make_work_guard(ctx);
        ctx.run();
      });
    }
  }
  ~Fleet() {
    for (auto& s : shards_) s->context().stop();
    for (auto& t : threads_) t.join();
  }

  // Opens every session; returns when each is welcomed or given up, or at the deadline.
  double connect(size_t n, double timeout_s) {
    const auto t0 = Clock::now();
    for (auto& s : shards_) s->start();
    auto last = t0;
    while (counters.settled.load() < n &&
           Clock::now() - t0 < std::chrono::duration<double>(timeout_s)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (Clock::now() - last > std::chrono::seconds(5)) {
        last = Clock::now();
        progress_line("connecting");
      }
    }
    return std::chrono::duration<double>(Clock::now() - t0).count();
  }

  void measure(Clock::time_point from, Clock::time_point until) {
    for (auto& s : shards_) s->measure(from, until);
  }

  FleetStats stats(bool new_round = false) {
    FleetStats all;
    for (auto& s : shards_) all.merge(s->stats(new_round));
    return all;
  }

  void progress_line(const char* what) {
    FleetStats s = stats();
    progress("%s: %zu of %zu sessions held, %zu given up, %zu attempts", what, s.held, s.sessions,
             s.gave_up, s.attempts);
  }

  FleetProgress counters;

 private:
  std::vector<std::unique_ptr<FleetShard>> shards_;
  std::vector<std::thread> threads_;
};

void wait_line() {
  std::string line;
  std::getline(std::cin, line);
}

void wait_eof() {
  std::string line;
  while (std::getline(std::cin, line)) {
  }
}

// The credentials to use, after checking this process has descriptors for them.
std::vector<Credential> load(RunOptions& o, size_t& n, size_t extra_fds) {
  std::vector<Credential> creds = read_tokens(o.tokens, o.fleet.signing_key);
  n = o.sessions ? std::min(o.sessions, creds.size()) : creds.size();
  if (o.sessions > creds.size()) {
    progress("only %zu tokens in %s; using them all", creds.size(), o.tokens.c_str());
  }
  const uint64_t fds = raise_fd_limit();
  if (n + extra_fds + 32 > fds) {
    throw std::runtime_error("RLIMIT_NOFILE is " + std::to_string(fds) + ": too few for " +
                             std::to_string(n) + " sessions (raise the hard limit)");
  }
  o.fleet.target = parse_url(o.url);
  o.fleet.first_source = asio::ip::make_address_v4(o.first_source);
  o.fleet.ping_interval = std::chrono::milliseconds(static_cast<int64_t>(o.ping_interval_s * 1000));
  return creds;
}

int run_hold(RunOptions o) {
  size_t n = 0;
  auto creds = load(o, n, 0);
  Fleet fleet(o, creds, n);
  const double connect_s = fleet.connect(n, o.connect_timeout_s);
  json::object held = fleet.stats().json(false, false);
  held["event"] = "held";
  held["connect_s"] = connect_s;
  held["client_cpu_s"] = cpu_seconds();
  emit(held);
  if (o.wait_stdin) wait_line();
  const auto from = Clock::now();
  const auto until = from + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(o.measure_s));
  fleet.measure(from, until);
  std::this_thread::sleep_until(until);
  // The last pings of the window get a few seconds to be answered.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  json::object result = fleet.stats().json(true, false);
  result["event"] = "result";
  result["measure_s"] = o.measure_s;
  result["ping_interval_s"] = o.ping_interval_s;
  result["client_cpu_s"] = cpu_seconds();
  emit(result);
  if (o.wait_stdin) wait_eof();
  return 0;
}

int run_agents(RunOptions o) {
  o.fleet.agent = true;
  size_t n = 0;
  auto creds = load(o, n, o.fleet.download_connections);
  Fleet fleet(o, creds, n);
  const double connect_s = fleet.connect(n, o.connect_timeout_s);
  FleetStats ready = fleet.stats(true);
  json::object r = ready.json(false, false);
  r["event"] = "ready";
  r["connect_s"] = connect_s;
  r["t"] = mono_now();
  emit(r);
  // One round per rollout the harness starts: until every held agent has finished the
  // command it got (confirmed or failed), then the round's figures.
  for (int round = 1; round <= o.rollouts; ++round) {
    const double cpu0 = cpu_seconds();
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(o.rollout_timeout_s));
    const size_t goal = ready.held * static_cast<size_t>(round);
    while (fleet.counters.finished.load() < goal && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    json::object result = fleet.stats(true).json(false, true);
    result["event"] = "result";
    result["round"] = round;
    result["timed_out"] = fleet.counters.finished.load() < goal;
    result["client_cpu_s"] = cpu_seconds() - cpu0;
    emit(result);
    if (fleet.counters.finished.load() < goal) break;
  }
  if (o.wait_stdin) wait_eof();
  return 0;
}

void add_run_options(CLI::App& cmd, RunOptions& o) {
  cmd.add_option("--url", o.url, "The server, http://IPV4:PORT")->capture_default_str();
  cmd.add_option("--tokens", o.tokens, "The tokens file `seed` wrote")->required();
  cmd.add_option("--sessions", o.sessions, "How many sessions (0: one per token)");
  cmd.add_option("--threads", o.threads, "Client threads, each with its share of the sessions")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  cmd.add_option("--first-source", o.first_source, "The first loopback source address")
      ->capture_default_str();
  cmd.add_option("--per-source", o.fleet.per_source,
                 "Sessions per source address: one address has the ephemeral port range (~28 000) "
                 "towards the server, but finding a free port slows down as it fills")
      ->capture_default_str();
  cmd.add_option("--connect-concurrency", o.fleet.connect_concurrency,
                 "Sessions between connect and welcome at once")
      ->capture_default_str();
  cmd.add_option("--connect-timeout", o.connect_timeout_s, "Seconds to open them all")
      ->capture_default_str();
  cmd.add_option("--ping-interval", o.ping_interval_s,
                 "Seconds between a session's pings (the protocol says 20)")
      ->capture_default_str();
  cmd.add_flag("--wait-stdin", o.wait_stdin,
               "Wait for a stdin line before measuring, and for stdin's end before closing");
}

}  // namespace
}  // namespace fleet_load

int main(int argc, char** argv) {
  using namespace fleet_load;
  CLI::App app{
      "vigil_fleet_load: device WebSocket fleets (bench S7, S8) and task round trips (S9) against "
      "Vigil"};
  app.require_subcommand(1);

  SeedOptions seed;
  std::string seed_url = "http://127.0.0.1:8080";
  auto* s = app.add_subcommand("seed", "Make N devices with enrolled watchdogs; write the tokens");
  s->add_option("--url", seed_url, "The server, http://IPV4:PORT")->capture_default_str();
  s->add_option("--token", seed.admin_token, "An admin's Bearer token")->required();
  s->add_option("--count", seed.count, "Devices to make")->required();
  s->add_option("--first", seed.first, "The first device number")->capture_default_str();
  s->add_option("--prefix", seed.prefix, "Names <prefix>-<i>, <prefix>-w<i>; label bench=<prefix>")
      ->capture_default_str();
  s->add_option("--connections", seed.connections, "Requests in flight at once")
      ->capture_default_str();
  s->add_option("--out", seed.out, "The tokens file to write")->required();

  RunOptions hold;
  auto* h = app.add_subcommand("hold", "S7: hold sessions, then measure ping round trips");
  add_run_options(*h, hold);
  h->add_option("--measure", hold.measure_s, "Seconds of pings measured")->capture_default_str();

  RunOptions agents;
  agents.connect_timeout_s = 300;
  auto* a = app.add_subcommand("agents", "S8: sessions that carry out their commands");
  add_run_options(*a, agents);
  a->add_option("--download-connections", agents.fleet.download_connections,
                "Kept-alive connections the agents fetch artifacts over, each request with its "
                "agent's token")
      ->capture_default_str();
  a->add_option("--rollouts", agents.rollouts, "Rollouts to wait for, one after the other")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  a->add_option("--rollout-timeout", agents.rollout_timeout_s,
                "Seconds to wait, once ready, for every agent to finish its command")
      ->capture_default_str();

  TasksOptions tasks;
  std::string tasks_url = "http://127.0.0.1:8080";
  auto* t = app.add_subcommand("tasks", "S9: asynchronous task round trips (submit, waiting read)");
  t->add_option("--url", tasks_url, "The server, http://IPV4:PORT")->capture_default_str();
  t->add_option("--token", tasks.token, "A Bearer token")->required();
  t->add_option("--body", tasks.body, "The submit's JSON body")->required();
  t->add_option("--concurrency", tasks.concurrency, "Round trips in flight at once")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  t->add_option("--warmup", tasks.warmup_s, "Seconds before measuring")->capture_default_str();
  t->add_option("--measure", tasks.measure_s, "Seconds measured")->capture_default_str();
  t->add_flag("--ceiling", tasks.ceiling,
              "Two GET /api/v1/auth/me per round trip instead of a task (the HTTP ceiling)");

  IngestOptions ingest;
  std::string ingest_url = "http://127.0.0.1:8080";
  auto* g = app.add_subcommand("ingest", "S4: telemetry ingest (points acknowledged when durable)");
  g->add_option("--url", ingest_url, "The server, http://IPV4:PORT")->capture_default_str();
  g->add_option("--token", ingest.token, "A Bearer token (admin)")->required();
  g->add_option("--prefix", ingest.prefix, "Sensor names: PREFIX0, PREFIX1, ... (made already)")
      ->capture_default_str();
  g->add_option("--sensors", ingest.sensors, "Sensors written")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  g->add_option("--concurrency", ingest.concurrency, "Requests in flight at once")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  g->add_option("--points", ingest.points, "Points per request")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  g->add_option("--resolution", ingest.resolution,
                "Values are a random walk in steps of this (0: full-precision doubles)")
      ->capture_default_str();
  g->add_option("--warmup", ingest.warmup_s, "Seconds before measuring")->capture_default_str();
  g->add_option("--measure", ingest.measure_s, "Seconds measured")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  try {
    if (s->parsed()) {
      seed.target = parse_url(seed_url);
      return run_seed(seed);
    }
    if (h->parsed()) return run_hold(hold);
    if (g->parsed()) {
      ingest.target = parse_url(ingest_url);
      return run_ingest(ingest);
    }
    if (t->parsed()) {
      tasks.target = parse_url(tasks_url);
      return run_tasks(tasks);
    }
    return run_agents(agents);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vigil_fleet_load: %s\n", e.what());
    return 2;
  }
}
