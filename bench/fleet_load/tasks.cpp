#include "tasks.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <memory>

#include "http_conn.h"

namespace fleet_load {
namespace {

namespace json = boost::json;

struct Run {
  const TasksOptions& o;
  asio::io_context& ctx;
  Clock::time_point measure_from, measure_until;
  std::vector<double> latencies_ms;
  uint64_t errors = 0;
  std::string first_error;
  bool stopping = false;

  void error(std::string what) {
    if (Clock::now() >= measure_from) ++errors;
    if (first_error.empty()) first_error = std::move(what);
  }
};

// One loop: submit, read with a wait, again.
class Loop : public std::enable_shared_from_this<Loop> {
 public:
  Loop(Run& run, HttpConn& conn) : run_(run), conn_(conn) {}

  void submit() {
    if (Clock::now() >= run_.measure_until) return;
    started_ = Clock::now();
    auto self = shared_from_this();
    if (run_.o.ceiling) {
      conn_.send(me(), nullptr, [self](HttpAnswer& a) {
        if (a.status != 200) return self->failed("ceiling: " + describe(a));
        self->conn_.send(self->me(), nullptr, [self](HttpAnswer& r) {
          if (r.status != 200) return self->failed("ceiling: " + describe(r));
          self->done();
        });
      });
      return;
    }
    conn_.send(request_text("POST", "/api/v1/tasks", run_.o.target.host_header(), run_.o.token,
                            run_.o.body),
               nullptr, [self](HttpAnswer& a) { self->submitted(a); });
  }

 private:
  void submitted(HttpAnswer& a) {
    if (a.status != 202) return failed("submit: " + describe(a));
    boost::system::error_code ec;
    json::value v = json::parse(a.body, ec);
    const json::value* id = ec || !v.is_object() ? nullptr : v.as_object().if_contains("id");
    if (id == nullptr || !id->is_int64()) return failed("submit: no id in " + a.body);
    auto self = shared_from_this();
    conn_.send(request_text("GET", "/api/v1/tasks/" + std::to_string(id->as_int64()) + "?wait=10",
                            run_.o.target.host_header(), run_.o.token),
               nullptr, [self](HttpAnswer& r) { self->read(r); });
  }

  void read(HttpAnswer& a) {
    if (a.status != 200) return failed("read: " + describe(a));
    if (a.body.find("\"status\":\"done\"") == std::string::npos) {
      return failed("read: not done: " + a.body.substr(0, 200));
    }
    done();
  }

  std::string me() const {
    return request_text("GET", "/api/v1/auth/me", run_.o.target.host_header(), run_.o.token);
  }

  void done() {
    const auto now = Clock::now();
    if (started_ >= run_.measure_from && now <= run_.measure_until) {
      run_.latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(now - started_).count());
    }
    submit();
  }

  void failed(std::string what) {
    run_.error(std::move(what));
    submit();
  }

  static std::string describe(const HttpAnswer& a) {
    return a.status == 0 ? a.error : std::to_string(a.status) + " " + a.body.substr(0, 200);
  }

  Run& run_;
  HttpConn& conn_;
  Clock::time_point started_;
};

}  // namespace

int run_tasks(const TasksOptions& o) {
  asio::io_context ctx;
  const Window w = measure_window(o.warmup_s, o.measure_s);
  Run run{o, ctx, w.from, w.until, {}, 0, {}, false};
  run_loops(ctx, o.target, o.concurrency,
            [&](int, HttpConn& conn) { std::make_shared<Loop>(run, conn)->submit(); });
  std::sort(run.latencies_ms.begin(), run.latencies_ms.end());
  const double rate = static_cast<double>(run.latencies_ms.size()) / o.measure_s;
  emit({{"scenario", "S9"},
        {"tasks", run.latencies_ms.size()},
        {"seconds", o.measure_s},
        {"rate", rate},
        {"p50_ms", percentile(run.latencies_ms, 50)},
        {"p99_ms", percentile(run.latencies_ms, 99)},
        {"errors", run.errors},
        {"first_error", run.first_error}});
  return run.latencies_ms.empty() ? 1 : 0;
}

}  // namespace fleet_load
