#include "seed.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>

#include "http_conn.h"

namespace fleet_load {

namespace json = boost::json;

namespace {

class Seeder {
 public:
  explicit Seeder(const SeedOptions& o) : opt_(o), creds_(o.count) {
    const auto source = asio::ip::make_address_v4("127.0.0.1");
    for (size_t w = 0; w < std::max<size_t>(1, o.connections); ++w) {
      workers_.push_back(std::make_unique<Worker>(ctx_, o.target.endpoint(), source));
    }
  }

  int run() {
    const auto t0 = Clock::now();
    for (auto& w : workers_) next(*w);
    asio::steady_timer timer(ctx_);
    std::function<void()> report = [&] {
      timer.expires_after(std::chrono::seconds(5));
      timer.async_wait([&](const boost::system::error_code& ec) {
        if (ec) return;
        progress("seed: %zu of %zu devices enrolled, %zu errors", done_, opt_.count, errors_);
        report();
      });
    };
    report();
    while (active_ > 0 && ctx_.run_one()) {
    }
    timer.cancel();
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<Credential> ok;
    for (auto& c : creds_) {
      if (c) ok.push_back(std::move(*c));
    }
    write_tokens(opt_.out, signing_key_, ok);
    emit({{"event", "seeded"},
          {"seeded", ok.size()},
          {"errors", errors_},
          {"first_error", first_error_},
          {"retries", retries_},
          {"seconds", seconds},
          {"requests", requests_},
          {"requests_per_s", seconds > 0 ? double(requests_) / seconds : 0.0},
          {"signing_key", signing_key_},
          {"tokens", opt_.out}});
    return ok.size() == opt_.count ? 0 : 1;
  }

 private:
  struct Worker {
    Worker(asio::io_context& ctx, tcp::endpoint server, asio::ip::address_v4 source)
        : conn(ctx, server, source) {}
    HttpConn conn;
    size_t i = 0;
    int step = 0;
    std::string code;
  };

  std::string device(size_t i) const { return opt_.prefix + "-" + std::to_string(opt_.first + i); }
  std::string watchdog(size_t i) const {
    return opt_.prefix + "-w" + std::to_string(opt_.first + i);
  }

  void next(Worker& w) {
    if (issued_ >= opt_.count) return;
    ++active_;
    w.i = issued_++;
    w.step = 0;
    send(w);
  }

  void send(Worker& w) {
    const std::string host = opt_.target.host_header();
    std::string req;
    if (w.step == 0) {
      json::object body{{"name", device(w.i)},
                        {"type", "bench"},
                        {"labels", json::object{{"bench", opt_.prefix}}}};
      req = request_text("POST", "/api/v1/devices", host, opt_.admin_token, json::serialize(body));
    } else if (w.step == 1) {
      req = request_text("POST", "/api/v1/devices/" + device(w.i) + "/enrollments", host,
                         opt_.admin_token, "{}");
    } else {
      json::object body{{"code", w.code}, {"watchdog", watchdog(w.i)}};
      req = request_text("POST", "/api/v1/enroll", host, {}, json::serialize(body));
    }
    ++requests_;
    w.conn.send(std::move(req), nullptr, [this, &w](HttpAnswer& a) { answered(w, a); });
  }

  void answered(Worker& w, HttpAnswer& a) {
    if (a.status == 503 || a.status == 429) {
      ++retries_;
      auto timer = std::make_shared<asio::steady_timer>(
          ctx_, std::chrono::seconds(std::max(1, a.retry_after_s)));
      timer->async_wait([this, &w, timer](const boost::system::error_code&) { send(w); });
      return;
    }
    if (a.status != 201) return fail(w, a);
    boost::system::error_code ec;
    json::value v = json::parse(a.body, ec);
    if (ec || !v.is_object()) return fail(w, a);
    const json::object& o = v.get_object();
    if (w.step == 1) {
      auto it = o.find("code");
      if (it == o.end() || !it->value().is_string()) return fail(w, a);
      w.code = std::string(it->value().get_string());
    } else if (w.step == 2) {
      auto token = o.find("token");
      auto key = o.find("signing_key");
      if (token == o.end() || !token->value().is_string() || key == o.end() ||
          !key->value().is_string()) {
        return fail(w, a);
      }
      const std::string k(key->value().get_string());
      if (signing_key_.empty()) signing_key_ = k;
      if (k != signing_key_) return fail(w, a, "the enrollment answers disagree on signing_key");
      creds_[w.i] =
          Credential{device(w.i), watchdog(w.i), std::string(token->value().get_string())};
      ++done_;
      --active_;
      return next(w);
    }
    ++w.step;
    send(w);
  }

  void fail(Worker& w, const HttpAnswer& a, std::string why = {}) {
    if (errors_++ == 0) {
      first_error_ = why.empty()
                         ? "step " + std::to_string(w.step) + " of " + device(w.i) + ": HTTP " +
                               std::to_string(a.status) + " " + a.body.substr(0, 300) + a.error
                         : why;
    }
    --active_;
    next(w);
  }

  const SeedOptions& opt_;
  asio::io_context ctx_{1};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::optional<Credential>> creds_;
  std::string signing_key_;
  std::string first_error_;
  size_t issued_ = 0;
  size_t active_ = 0;
  size_t done_ = 0;
  size_t errors_ = 0;
  size_t retries_ = 0;
  size_t requests_ = 0;
};

}  // namespace

int run_seed(const SeedOptions& options) { return Seeder(options).run(); }

}  // namespace fleet_load
