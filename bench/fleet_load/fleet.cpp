#include "fleet.h"

#include <boost/asio/post.hpp>

#include <cstdio>
#include <future>

#include "fleet/model_signer.h"

namespace fleet_load {

namespace json = boost::json;

namespace {

constexpr std::string_view kDevicePath = "/api/v1/ws/device";
constexpr auto kTick = std::chrono::milliseconds(10);

std::string_view string_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string_view(it->value().get_string())
                                                  : std::string_view();
}

int64_t int_at(const json::object& o, std::string_view key, int64_t fallback = 0) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_int64() ? it->value().get_int64() : fallback;
}

std::string hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

}  // namespace

// The command an agent is carrying out.
struct FleetShard::Job {
  int64_t id = 0;
  int64_t confirm_s = 0;
  std::string name;
  int64_t version = 0;
  std::string sha256;
  std::string signature;
  std::string url;
  std::unique_ptr<asio::steady_timer> timer;  // confirm_s > 0, or a download retry
  bool done = false;
};

struct FleetShard::Agent {
  Agent(asio::io_context& ctx, WsHandler& h, uint32_t index, Entry e)
      : ws(ctx, h, index), global(e.global), cred(e.cred) {}
  WsSession ws;
  size_t global;
  const Credential* cred;
  Clock::time_point ping_sent{};
  std::unique_ptr<Job> job;
  uint8_t attempts = 0;
  bool held = false;
  bool settled = false;
  bool ping_out = false;
  bool ping_measured = false;
};

struct FleetShard::Downloader {
  Downloader(asio::io_context& ctx, const Target& t, asio::ip::address_v4 source)
      : conn(ctx, t.endpoint(), source), md(EVP_MD_CTX_new()) {}
  ~Downloader() { EVP_MD_CTX_free(md); }
  HttpConn conn;
  EVP_MD_CTX* md;
  size_t agent = 0;
  uint64_t bytes = 0;
  bool busy = false;
};

namespace {

struct CounterField {
  const char* name;
  size_t FleetStats::*member;
};

// The counters a merge adds up and the JSON shows: the sessions' and (agent mode) the agents'.
constexpr CounterField kSessionCounters[] = {{"sessions", &FleetStats::sessions},
                                             {"held", &FleetStats::held},
                                             {"gave_up", &FleetStats::gave_up},
                                             {"attempts", &FleetStats::attempts},
                                             {"connect_errors", &FleetStats::connect_errors},
                                             {"protocol_errors", &FleetStats::protocol_errors},
                                             {"closed_while_held", &FleetStats::closed_while_held},
                                             {"error_frames", &FleetStats::error_frames}};
constexpr CounterField kAgentCounters[] = {
    {"commands", &FleetStats::commands},
    {"command_resends", &FleetStats::command_resends},
    {"downloads", &FleetStats::downloads},
    {"download_bytes", &FleetStats::download_bytes},
    {"download_retries", &FleetStats::download_retries},
    {"download_connects", &FleetStats::download_connects},
    {"checksum_mismatches", &FleetStats::checksum_mismatches},
    {"bad_signatures", &FleetStats::bad_signatures},
    {"confirmed", &FleetStats::confirmed},
    {"failed", &FleetStats::failed}};

}  // namespace

void FleetStats::merge(const FleetStats& o) {
  for (const auto& c : kSessionCounters) this->*c.member += o.*c.member;
  for (const auto& c : kAgentCounters) this->*c.member += o.*c.member;
  for (const auto& [k, v] : o.refused) refused[k] += v;
  if (first_close.empty()) first_close = o.first_close;
  if (first_error.empty()) first_error = o.first_error;
  rtt_ms.insert(rtt_ms.end(), o.rtt_ms.begin(), o.rtt_ms.end());
  pings_measured += o.pings_measured;
  pings_overdue += o.pings_overdue;
  if (first_failure.empty()) first_failure = o.first_failure;
  if (o.first_command > 0 && (first_command == 0 || o.first_command < first_command)) {
    first_command = o.first_command;
  }
  last_confirmed = std::max(last_confirmed, o.last_confirmed);
}

void FleetStats::start_round() {
  for (const auto& c : kAgentCounters) this->*c.member = 0;
  rtt_ms.clear();
  pings_measured = pings_overdue = 0;
  first_failure.clear();
  first_command = last_confirmed = 0;
}

json::object FleetStats::json(bool with_pings, bool with_agents) const {
  json::object o;
  for (const auto& c : kSessionCounters) o[c.name] = this->*c.member;
  json::object refused_json;
  for (const auto& [k, v] : refused) refused_json[std::to_string(k)] = v;
  o["refused"] = std::move(refused_json);
  o["first_close"] = first_close;
  o["first_error"] = first_error;
  if (with_pings) {
    std::vector<double> sorted = rtt_ms;
    std::sort(sorted.begin(), sorted.end());
    o["pings"] = pings_measured;
    o["pongs"] = sorted.size();
    o["lost"] = pings_measured - std::min(pings_measured, sorted.size());
    o["overdue"] = pings_overdue;
    o["p50_ms"] = percentile(sorted, 50);
    o["p90_ms"] = percentile(sorted, 90);
    o["p99_ms"] = percentile(sorted, 99);
    o["max_ms"] = sorted.empty() ? 0.0 : sorted.back();
  }
  if (!with_agents) return o;
  for (const auto& c : kAgentCounters) o[c.name] = this->*c.member;
  o["first_failure"] = first_failure;
  o["first_command"] = first_command;
  o["last_confirmed"] = last_confirmed;
  return o;
}

FleetShard::FleetShard(FleetOptions options, FleetProgress& progress, std::vector<Entry> entries)
    : opt_(std::move(options)), progress_(progress) {
  for (size_t i = 0; i < entries.size(); ++i) {
    agents_.emplace_back(ctx_, *this, static_cast<uint32_t>(i), entries[i]);
  }
  stats_.sessions = entries.size();
  if (opt_.agent) {
    for (size_t i = 0; i < std::max<size_t>(1, opt_.download_connections); ++i) {
      downloaders_.push_back(std::make_unique<Downloader>(
          ctx_, opt_.target, source_address(opt_.first_source, i, opt_.per_source)));
    }
  }
}

FleetShard::~FleetShard() = default;

void FleetShard::start() {
  asio::post(ctx_, [this] {
    last_tick_ = Clock::now();
    tick();
    pump_connects();
  });
}

void FleetShard::measure(Clock::time_point from, Clock::time_point until) {
  asio::post(ctx_, [this, from, until] {
    measure_from_ = from;
    measure_until_ = until;
  });
}

FleetStats FleetShard::stats(bool new_round) {
  std::promise<FleetStats> p;
  asio::post(ctx_, [&] {
    FleetStats s = stats_;
    s.held = 0;
    for (const auto& a : agents_) s.held += a.held ? 1 : 0;
    for (const auto& d : downloaders_) s.download_connects += d->conn.connects();
    if (new_round) stats_.start_round();
    p.set_value(std::move(s));
  });
  return p.get_future().get();
}

void FleetShard::pump_connects() {
  while (in_flight_ < opt_.connect_concurrency && next_connect_ < agents_.size()) {
    launch(next_connect_++);
  }
}

void FleetShard::launch(size_t i) {
  Agent& a = agents_[i];
  ++a.attempts;
  ++stats_.attempts;
  ++in_flight_;
  a.ws.connect(opt_.target.endpoint(), source_address(opt_.first_source, a.global, opt_.per_source),
               opt_.target.host_header(), kDevicePath, a.cred->token);
}

void FleetShard::retry_later(size_t i, std::chrono::milliseconds delay) {
  if (agents_[i].attempts >= opt_.max_attempts) {
    ++stats_.gave_up;
    agents_[i].settled = true;
    settle();
    return pump_connects();
  }
  auto timer = std::make_shared<asio::steady_timer>(ctx_, delay);
  timer->async_wait([this, i, timer](const boost::system::error_code&) { launch(i); });
  pump_connects();
}

void FleetShard::settle() { progress_.settled.fetch_add(1, std::memory_order_relaxed); }

// Visits the sessions in turn, as many per tick as make one round per ping_interval: each held
// session sends a ping at its turn unless its last one is still unanswered.
void FleetShard::tick() {
  const auto now = Clock::now();
  const double share = std::chrono::duration<double>(now - last_tick_) /
                       std::chrono::duration<double>(opt_.ping_interval);
  last_tick_ = now;
  tick_budget_ += share * double(agents_.size());
  const bool measuring = now >= measure_from_ && now < measure_until_;
  while (tick_budget_ >= 1 && !agents_.empty()) {
    tick_budget_ -= 1;
    Agent& a = agents_[tick_cursor_];
    tick_cursor_ = (tick_cursor_ + 1) % agents_.size();
    if (!a.held) continue;
    if (a.ping_out) {
      if (a.ping_measured) ++stats_.pings_overdue;
      continue;
    }
    a.ping_out = true;
    a.ping_measured = measuring;
    if (measuring) ++stats_.pings_measured;
    a.ping_sent = Clock::now();
    a.ws.send_text(R"({"type":"ping"})");
  }
  ticker_.expires_after(kTick);
  ticker_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

void FleetShard::on_pong(Agent& a) {
  if (!a.ping_out) return;
  a.ping_out = false;
  if (a.ping_measured) {
    stats_.rtt_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - a.ping_sent).count());
  }
}

void FleetShard::on_open(WsSession& s) {
  json::object hello{{"type", "hello"}, {"agent", opt_.agent_name}, {"model", nullptr}};
  s.send_text(json::serialize(hello));
}

void FleetShard::on_text(WsSession& s, std::string_view text) {
  Agent& a = agents_[s.index()];
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return;
  const json::object& msg = v.get_object();
  const std::string_view type = string_at(msg, "type");
  if (type == "pong") return on_pong(a);
  if (type == "welcome") {
    if (a.held) return;
    a.held = true;
    --in_flight_;
    if (!a.settled) {
      a.settled = true;
      settle();
    }
    return pump_connects();
  }
  if (type == "command") return on_command(s.index(), msg);
  if (type == "error") {
    if (stats_.error_frames++ == 0) stats_.first_error = std::string(string_at(msg, "detail"));
  }
}

void FleetShard::on_fail(WsSession& s, WsFailure why, int status, int retry_after_s) {
  --in_flight_;
  std::chrono::milliseconds delay{200};
  switch (why) {
    case WsFailure::kConnect: ++stats_.connect_errors; break;
    case WsFailure::kProtocol: ++stats_.protocol_errors; break;
    case WsFailure::kRefused:
      ++stats_.refused[status];
      if (retry_after_s >= 0) delay = std::chrono::seconds(retry_after_s);
      if (status != 503 && status != 429) agents_[s.index()].attempts = 0xff;  // no retry
      break;
  }
  retry_later(s.index(), delay);
}

void FleetShard::on_closed(WsSession& s, std::string_view why) {
  Agent& a = agents_[s.index()];
  a.ping_out = false;
  if (a.held) {
    a.held = false;
    if (stats_.closed_while_held++ == 0) stats_.first_close = std::string(why);
    return;
  }
  // Closed after the upgrade, before the welcome.
  --in_flight_;
  ++stats_.protocol_errors;
  retry_later(s.index(), std::chrono::milliseconds(200));
}

void FleetShard::on_command(size_t i, const json::object& msg) {
  Agent& a = agents_[i];
  if (!opt_.agent) return;
  const int64_t id = int_at(msg, "id");
  if (a.job && a.job->id == id) {
    ++stats_.command_resends;
    return;
  }
  auto it = msg.find("model");
  if (id <= 0 || it == msg.end() || !it->value().is_object()) return;
  const json::object& model = it->value().get_object();
  auto job = std::make_unique<Job>();
  job->id = id;
  job->confirm_s = int_at(msg, "confirm_s");
  job->name = std::string(string_at(model, "name"));
  job->version = int_at(model, "version");
  job->sha256 = std::string(string_at(model, "sha256"));
  job->signature = std::string(string_at(model, "signature"));
  job->url = std::string(string_at(model, "url"));
  a.job = std::move(job);
  ++stats_.commands;
  if (stats_.first_command == 0) stats_.first_command = mono_now();
  report(a, "downloading");
  download_queue_.push_back(i);
  pump_downloads();
}

void FleetShard::pump_downloads() {
  for (auto& dp : downloaders_) {
    if (download_queue_.empty()) return;
    Downloader& d = *dp;
    if (d.busy) continue;
    const size_t i = download_queue_.front();
    download_queue_.pop_front();
    Agent& a = agents_[i];
    if (!a.job || a.job->done) continue;
    d.busy = true;
    d.agent = i;
    d.bytes = 0;
    EVP_DigestInit_ex(d.md, EVP_sha256(), nullptr);
    d.conn.send(
        request_text("GET", a.job->url, opt_.target.host_header(), a.cred->token),
        [&d](const char* data, size_t n) {
          EVP_DigestUpdate(d.md, data, n);
          d.bytes += n;
        },
        [this, &d](HttpAnswer& answer) { downloaded(d, answer); });
  }
}

void FleetShard::downloaded(Downloader& d, HttpAnswer& answer) {
  d.busy = false;
  Agent& a = agents_[d.agent];
  Job* job = a.job.get();
  if (job && !job->done) {
    if (answer.status == 503 || answer.status == 429) {
      ++stats_.download_retries;
      const auto delay = std::chrono::seconds(std::max(1, answer.retry_after_s));
      job->timer = std::make_unique<asio::steady_timer>(ctx_, delay);
      job->timer->async_wait([this, i = d.agent](const boost::system::error_code&) {
        download_queue_.push_back(i);
        pump_downloads();
      });
    } else if (answer.status != 200) {
      const std::string why = answer.status ? "download: HTTP " + std::to_string(answer.status)
                                            : "download: " + answer.error;
      report(a, "failed", why);
      finish_job(a, why);
    } else {
      ++stats_.downloads;
      stats_.download_bytes += d.bytes;
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      EVP_DigestFinal_ex(d.md, digest, &len);
      if (hex(digest, len) != job->sha256) {
        ++stats_.checksum_mismatches;
        report(a, "failed", "sha256 mismatch");
        finish_job(a, "sha256 mismatch");
      } else if (!vigil::fleet::verify_model_signature(opt_.signing_key, job->name, job->version,
                                                       job->sha256, job->signature)) {
        ++stats_.bad_signatures;
        report(a, "failed", "bad signature");
        finish_job(a, "bad signature");
      } else {
        report(a, "applied");
        if (job->confirm_s <= 0) {
          report(a, "confirmed");
          finish_job(a, {});
        } else {
          job->timer =
              std::make_unique<asio::steady_timer>(ctx_, std::chrono::seconds(job->confirm_s));
          job->timer->async_wait([this, &a](const boost::system::error_code& ec) {
            if (ec || !a.job || a.job->done) return;
            report(a, "confirmed");
            finish_job(a, {});
          });
        }
      }
    }
  }
  pump_downloads();
}

void FleetShard::report(Agent& a, std::string_view state, std::string_view error) {
  json::object o{{"type", "status"}, {"ref", a.job->id}, {"state", state}};
  if (state == "applied" || state == "confirmed") {
    o["model"] = json::object{{"name", a.job->name}, {"version", a.job->version}};
  }
  if (!error.empty()) o["error"] = error;
  a.ws.send_text(json::serialize(o));
}

void FleetShard::finish_job(Agent& a, std::string_view failure) {
  a.job->done = true;
  if (failure.empty()) {
    ++stats_.confirmed;
    stats_.last_confirmed = mono_now();
  } else if (stats_.failed++ == 0) {
    stats_.first_failure = a.cred->device + ": " + std::string(failure);
  }
  // Keep only the id, to recognise a resend.
  a.job->name.clear();
  a.job->sha256.clear();
  a.job->signature.clear();
  a.job->url.clear();
  progress_.finished.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace fleet_load
