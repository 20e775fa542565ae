#include "ingest.h"

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <random>

#include "http_conn.h"

namespace fleet_load {
namespace {

struct Run {
  const IngestOptions& o;
  Clock::time_point measure_from, measure_until;
  std::vector<double> latencies_ms;
  uint64_t points = 0, errors = 0;
  std::string first_error;
};

// One loop: post the sensor's next batch, again.
class Loop : public std::enable_shared_from_this<Loop> {
 public:
  Loop(Run& run, HttpConn& conn, int index)
      : run_(run),
        conn_(conn),
        sensor_(run.o.prefix + std::to_string(index % run.o.sensors)),
        // Loops on one sensor write disjoint time ranges.
        at_ms_(1'600'000'000'000 + static_cast<int64_t>(index / run.o.sensors) * 1'000'000'000'000),
        rng_(static_cast<uint32_t>(index)) {}

  void post() {
    if (Clock::now() >= run_.measure_until) return;
    started_ = Clock::now();
    std::string body = "{\"sensor\":\"" + sensor_ + "\",\"points\":[";
    body.reserve(static_cast<size_t>(run_.o.points) * 32);
    std::uniform_int_distribution<int> step(-10, 10);
    for (int i = 0; i < run_.o.points; ++i) {
      if (run_.o.resolution > 0) {
        level_ += step(rng_);
        // n / 100 rather than n * 0.01: the double nearest to the decimal, as a device sends it
        value_ = static_cast<double>(level_) / std::round(1 / run_.o.resolution);
      } else {
        value_ += std::normal_distribution<double>(0, 1)(rng_);
      }
      // The shortest text that reads back as the value (as a device's JSON library writes it).
      char buf[64];
      char* p = buf;
      if (i) *p++ = ',';
      *p++ = '[';
      p = std::to_chars(p, buf + sizeof buf, at_ms_).ptr;
      *p++ = ',';
      p = std::to_chars(p, buf + sizeof buf, value_).ptr;
      *p++ = ']';
      body.append(buf, static_cast<size_t>(p - buf));
      at_ms_ += 1000;
    }
    body += "]}";
    auto self = shared_from_this();
    conn_.send(
        request_text("POST", "/api/v1/telemetry", run_.o.target.host_header(), run_.o.token, body),
        nullptr, [self](HttpAnswer& a) { self->answered(a); });
  }

 private:
  void answered(HttpAnswer& a) {
    const auto now = Clock::now();
    const bool measured = started_ >= run_.measure_from && now <= run_.measure_until;
    if (a.status != 202) {
      if (measured) ++run_.errors;
      if (run_.first_error.empty()) {
        run_.first_error = a.status == 0 ? a.error : std::to_string(a.status) + " " + a.body;
      }
    } else if (measured) {
      run_.points += static_cast<uint64_t>(run_.o.points);
      run_.latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(now - started_).count());
    }
    post();
  }

  Run& run_;
  HttpConn& conn_;
  std::string sensor_;
  int64_t at_ms_;
  std::mt19937 rng_;
  int64_t level_ = 4000;
  double value_ = 40;
  Clock::time_point started_;
};

}  // namespace

int run_ingest(const IngestOptions& o) {
  asio::io_context ctx;
  const Window w = measure_window(o.warmup_s, o.measure_s);
  Run run{o, w.from, w.until, {}, 0, 0, {}};
  run_loops(ctx, o.target, o.concurrency,
            [&](int i, HttpConn& conn) { std::make_shared<Loop>(run, conn, i)->post(); });
  std::sort(run.latencies_ms.begin(), run.latencies_ms.end());
  emit({{"scenario", "S4"},
        {"requests", run.latencies_ms.size()},
        {"points", run.points},
        {"seconds", o.measure_s},
        {"rate", static_cast<double>(run.points) / o.measure_s},
        {"p50_ms", percentile(run.latencies_ms, 50)},
        {"p99_ms", percentile(run.latencies_ms, 99)},
        {"errors", run.errors},
        {"first_error", run.first_error}});
  return run.latencies_ms.empty() ? 1 : 0;
}

}  // namespace fleet_load
