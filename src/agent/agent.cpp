#include "agent/agent.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "agent/active_model.h"
#include "agent/csv_rows.h"
#include "client/http_client.h"
#include "core/ids.h"
#include "core/json_text.h"
#include "fleet/model_signer.h"

namespace vigil::agent {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr size_t kMaxQueuedFrames = 20'000;  // more: the session is ended and starts again
constexpr size_t kAlarmsInFlight = 16;       // the server closes a session with 64 waiting

json::value model_ref(const InstalledModel& m) {
  return json::object{{"name", m.name}, {"version", m.version}};
}

std::string string_of(const json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A command as the server sent it (docs/protocol.md "Commands").
struct CommandJob {
  int64_t id = 0;
  std::string action;
  InstalledModel model;
  std::string signature;
  std::string url;
  int64_t confirm_s = 0;
};

// The command frame's fields; an error for a frame the agent cannot act on.
Expected<CommandJob> read_command(const json::object& frame) {
  CommandJob job;
  const auto* id = frame.if_contains("id");
  const auto* m = frame.if_contains("model");
  if (!id || !id->is_int64() || !m || !m->is_object()) {
    return invalid_argument("a command without id or model");
  }
  const json::object& model = m->as_object();
  job.id = id->as_int64();
  job.action = string_of(frame, "action");
  job.model.name = string_of(model, "name");
  job.model.sha256 = string_of(model, "sha256");
  job.model.kind = string_of(model, "kind");
  job.signature = string_of(model, "signature");
  job.url = string_of(model, "url");
  if (const auto* v = model.if_contains("version"); v && v->is_int64()) {
    job.model.version = v->as_int64();
  }
  if (const auto* md = model.if_contains("metadata"); md && md->is_object()) {
    job.model.metadata = json::serialize(*md);
  }
  if (const auto* c = frame.if_contains("confirm_s"); c && c->is_int64() && c->as_int64() > 0) {
    job.confirm_s = c->as_int64();
  }
  if (job.model.name.empty() || job.model.version < 1 || job.model.sha256.size() != 64 ||
      job.url.empty() || job.url.front() != '/') {
    return invalid_argument("a command whose model lacks name, version, sha256 or url");
  }
  if (job.model.kind.empty()) {
    return invalid_argument(
        "the server did not say the model's kind (a server older than this agent)");
  }
  return job;
}

client::ClientOptions client_options(const AgentOptions& o, const std::string& token) {
  client::ClientOptions c;
  c.token = token;
  c.ca_file = o.cacert;
  c.user_agent = o.agent_name;
  c.timeout = std::chrono::seconds(60);
  return c;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

class Agent::Impl {
 public:
  Impl(AgentOptions options, Identity identity, const runtime::RuntimeRegistry& runtimes)
      : options_(std::move(options)),
        identity_(std::move(identity)),
        runtimes_(runtimes),
        ssl_(asio::ssl::context::tls_client),
        ping_timer_(ioc_),
        retry_timer_(ioc_),
        rng_(std::random_device{}()),
        alarm_prefix_(random_token(6)) {}

  Status run() {
    auto url = client::parse_url(identity_.server);
    if (!url.ok()) return url.status();
    url_ = *url;
    if (url_.tls()) {
      boost::system::error_code ec;
      if (!options_.cacert.empty()) {
        ssl_.load_verify_file(options_.cacert, ec);
      } else {
        ssl_.set_default_verify_paths(ec);
      }
      if (ec) return invalid_argument("cannot load the CA certificates: " + ec.message());
    }
    if (Status s = restore_model(); !s.ok()) return s;

    std::thread commands([this] { command_loop(); });
    std::optional<std::thread> input;
    if (!options_.input.empty()) input.emplace([this] { input_loop(); });

    asio::post(ioc_, [this] { connect(); });
    ioc_.run();

    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    commands.join();
    if (input) input->join();
    return fatal_;
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    asio::post(ioc_, [this] { shut_down(); });
  }

 private:
  using Plain = websocket::stream<beast::tcp_stream>;
  using Tls = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

  // One connection attempt and its session; handlers hold it alive until they have run.
  struct Conn {
    std::optional<Plain> plain;
    std::optional<Tls> tls;
    tcp::resolver resolver;
    beast::flat_buffer buffer;
    websocket::response_type upgrade;
    std::deque<std::string> out;
    bool writing = false;
    bool open = false;
    bool dead = false;
    explicit Conn(asio::io_context& ioc) : resolver(ioc) {}
    template <class F>
    void with(F&& f) {
      if (plain) {
        f(*plain);
      } else {
        f(*tls);
      }
    }
    beast::tcp_stream& tcp_layer() {
      return plain ? beast::get_lowest_layer(*plain) : beast::get_lowest_layer(*tls);
    }
  };
  using ConnPtr = std::shared_ptr<Conn>;

  // ---- the session, on the event loop's thread ----------------------------------------------

  void connect() {
    if (stopped_) return;
    auto c = std::make_shared<Conn>(ioc_);
    if (url_.tls()) {
      c->tls.emplace(ioc_, ssl_);
    } else {
      c->plain.emplace(ioc_);
    }
    conn_ = c;
    c->resolver.async_resolve(url_.host, std::to_string(url_.port),
                              [this, c](beast::error_code ec, tcp::resolver::results_type r) {
                                if (ec) return fail(c, "cannot resolve " + url_.host, ec);
                                c->tcp_layer().expires_after(kConnectTimeout);
                                c->tcp_layer().async_connect(
                                    r, [this, c](beast::error_code ec, const tcp::endpoint&) {
                                      if (ec) return fail(c, "cannot connect", ec);
                                      if (c->tls) return tls_handshake(c);
                                      ws_handshake(c);
                                    });
                              });
  }

  void tls_handshake(const ConnPtr& c) {
    auto& stream = c->tls->next_layer();
    if (!SSL_set_tlsext_host_name(stream.native_handle(), url_.host.c_str())) {
      return fail(c, "cannot set the TLS server name", {});
    }
    stream.set_verify_mode(asio::ssl::verify_peer);
    stream.set_verify_callback(asio::ssl::host_name_verification(url_.host));
    stream.async_handshake(asio::ssl::stream_base::client, [this, c](beast::error_code ec) {
      if (ec) return fail(c, "TLS handshake", ec);
      ws_handshake(c);
    });
  }

  void ws_handshake(const ConnPtr& c) {
    c->tcp_layer().expires_never();  // the WebSocket stream keeps its own timeouts
    c->with([&](auto& ws) {
      websocket::stream_base::timeout t{};
      t.handshake_timeout = kConnectTimeout;
      t.idle_timeout = websocket::stream_base::none();
      t.keep_alive_pings = false;
      ws.set_option(t);
      ws.set_option(websocket::stream_base::decorator([this](websocket::request_type& req) {
        req.set(beast::http::field::authorization, "Bearer " + identity_.token);
        req.set(beast::http::field::user_agent, options_.agent_name);
      }));
      ws.read_message_max(16 << 20);
      ws.async_handshake(c->upgrade, url_.authority(), url_.base_path + "/api/v1/ws/device",
                         [this, c](beast::error_code ec) {
                           if (!ec) return opened(c);
                           const int status = static_cast<int>(c->upgrade.result_int());
                           if (status == 401 || status == 403) {
                             fatal_ = Status(ErrorCode::kUnauthenticated,
                                             "the server refused this watchdog's token (" +
                                                 std::to_string(status) +
                                                 "): enroll again with a new code");
                             return shut_down();
                           }
                           fail(c, "WebSocket upgrade (HTTP " + std::to_string(status) + ")", ec);
                         });
    });
  }

  void opened(const ConnPtr& c) {
    c->open = true;
    last_heard_ = Clock::now();
    auto active = current();
    send(c, json::serialize(json::object{{"type", "hello"},
                                         {"agent", options_.agent_name},
                                         {"model", active ? model_ref(active->info) : nullptr}}));
    read(c);
    schedule_ping(c);
  }

  void read(const ConnPtr& c) {
    c->with([&](auto& ws) {
      ws.async_read(c->buffer, [this, c](beast::error_code ec, size_t) {
        if (ec) return fail(c, "session ended", ec);
        last_heard_ = Clock::now();
        std::string text = beast::buffers_to_string(c->buffer.data());
        c->buffer.consume(c->buffer.size());
        on_frame(c, text);
        if (!c->dead) read(c);
      });
    });
  }

  void on_frame(const ConnPtr& c, const std::string& text) {
    boost::system::error_code ec;
    json::value v = parse_json(text, ec);
    if (ec || !v.is_object())
      return spdlog::warn("agent: the server sent a frame that is not JSON");
    const json::object& frame = v.as_object();
    const std::string type = string_of(frame, "type");
    if (type == "welcome") return welcomed(c, frame);
    if (type == "command") {
      auto job = read_command(frame);
      if (!job.ok()) return spdlog::warn("agent: ignoring a command: {}", job.status().message());
      {
        std::lock_guard lock(mu_);
        next_job_ = std::move(*job);
      }
      cv_.notify_all();
      return;
    }
    if (type == "ack") {
      alarm_done(c, string_of(frame, "ref"));
      return;
    }
    if (type == "error") {
      const std::string detail = string_of(frame, "detail");
      const json::value* ref = frame.if_contains("ref");
      spdlog::warn("agent: the server refused message {}: {}", ref ? json::serialize(*ref) : "-",
                   detail);
      // An alarm the server cannot take now ("send it again", "slow down") stays for the next
      // session; one it refused would be refused again.
      if (ref && ref->is_string() && pending_alarms_.count(std::string(ref->as_string()))) {
        const std::string id(ref->as_string());
        const bool retry = detail.find("again") != std::string::npos ||
                           detail.find("slow down") != std::string::npos;
        if (!retry) {
          alarm_done(c, id);
        } else {
          in_flight_.erase(id);  // kept for the next session
        }
      }
      return;
    }
    // pong (last_heard_ is enough), model (this agent never pulls): nothing to do.
  }

  void welcomed(const ConnPtr& c, const json::object& frame) {
    attempt_ = 0;
    const std::string watchdog = string_of(frame, "watchdog");
    const std::string device = string_of(frame, "device");
    spdlog::info("agent: connected to {} as watchdog {} of device {}", identity_.server, watchdog,
                 device);
    if (watchdog != identity_.watchdog || device != identity_.device) {
      identity_.watchdog = watchdog;
      identity_.device = device;
      if (Status s = save_identity(options_.state_dir, identity_); !s.ok()) {
        spdlog::warn("agent: {}", s.message());
      }
    }
    welcomed_ = true;
    in_flight_.clear();
    send_alarms(c);
  }

  // Alarms go out at most kAlarmsInFlight at a time, the next as each is acknowledged: the
  // server closes a session with too many messages waiting, and a burst of rows must not make
  // that happen on every reconnect.
  void send_alarms(const ConnPtr& c) {
    for (auto it = pending_alarms_.upper_bound(last_sent_alarm());
         it != pending_alarms_.end() && in_flight_.size() < kAlarmsInFlight; ++it) {
      in_flight_.insert(it->first);
      send(c, it->second);
    }
  }
  std::string last_sent_alarm() const { return in_flight_.empty() ? "" : *in_flight_.rbegin(); }
  void alarm_done(const ConnPtr& c, const std::string& id) {
    pending_alarms_.erase(id);
    if (in_flight_.erase(id) && welcomed_) send_alarms(c);
  }

  void schedule_ping(const ConnPtr& c) {
    ping_timer_.expires_after(options_.ping_interval);
    ping_timer_.async_wait([this, c](beast::error_code ec) {
      if (ec || c->dead) return;
      if (Clock::now() - last_heard_ > 2 * options_.ping_interval + std::chrono::seconds(5)) {
        return fail(c, "no answer from the server", {});
      }
      send(c, R"({"type":"ping"})");
      schedule_ping(c);
    });
  }

  void send(const ConnPtr& c, std::string frame) {
    if (!c || !c->open || c->dead) return;  // healed on the next hello (docs/agent.md)
    if (c->out.size() >= kMaxQueuedFrames) return fail(c, "the server reads too slowly", {});
    c->out.push_back(std::move(frame));
    if (!c->writing) write(c);
  }

  void write(const ConnPtr& c) {
    c->writing = true;
    c->with([&](auto& ws) {
      ws.text(true);
      ws.async_write(asio::buffer(c->out.front()), [this, c](beast::error_code ec, size_t) {
        if (ec) return fail(c, "cannot send", ec);
        c->out.pop_front();
        if (c->out.empty()) {
          c->writing = false;
        } else {
          write(c);
        }
      });
    });
  }

  // Ends the connection `c` and tries again after a jittered back-off.
  void fail(const ConnPtr& c, const std::string& what, beast::error_code ec) {
    if (c->dead) return;
    c->dead = true;
    const bool was_open = c->open;
    c->open = false;
    beast::error_code ignored;
    c->tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
    c->tcp_layer().close();
    if (conn_ == c) conn_.reset();
    welcomed_ = false;
    ping_timer_.cancel();
    if (stopped_) return;
    const auto cap = std::min<int64_t>(options_.backoff_max.count(), options_.backoff_min.count()
                                                                         << std::min(attempt_, 16));
    const auto delay = std::chrono::milliseconds(
        std::uniform_int_distribution<int64_t>(cap / 2, std::max<int64_t>(cap, 1))(rng_));
    ++attempt_;
    const std::string reason = ec ? what + ": " + ec.message() : what;
    if (was_open) {
      spdlog::warn("agent: {}; connecting again in {} ms", reason, delay.count());
    } else {
      spdlog::info("agent: {}; trying again in {} ms", reason, delay.count());
    }
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([this](beast::error_code ec) {
      if (!ec) connect();
    });
  }

  void shut_down() {
    if (stopped_) return;
    stopped_ = true;
    ping_timer_.cancel();
    retry_timer_.cancel();
    ConnPtr c = std::move(conn_);
    if (!c || !c->open || c->dead) {
      if (c) c->resolver.cancel();
      if (c && !c->dead) {
        c->dead = true;
        c->tcp_layer().close();
      }
      return;
    }
    c->with([&](auto& ws) {
      ws.async_close(websocket::close_code::normal, [c](beast::error_code) {
        c->dead = true;
        c->tcp_layer().close();
      });
    });
  }

  // Runs on the event loop's thread: hands a frame to the current session.
  void post_frame(std::string frame) {
    asio::post(ioc_, [this, frame = std::move(frame)]() mutable {
      if (welcomed_) send(conn_, std::move(frame));
    });
  }

  // ---- commands, on their own thread ---------------------------------------------------------

  struct CommandState {
    int64_t id = 0;
    std::string state;  // downloading, applied, confirmed, failed
    std::string error;
    InstalledModel model;
    std::optional<Clock::time_point> confirm_at;
    std::shared_ptr<const ActiveModel> fallback;  // what to switch back to
  };

  void command_loop() {
    CommandState cmd;
    std::unique_lock lock(mu_);
    while (true) {
      if (stopping_) return;
      if (next_job_) {
        CommandJob job = std::move(*next_job_);
        next_job_.reset();
        lock.unlock();
        handle_command(cmd, job);
        lock.lock();
        continue;
      }
      if (cmd.confirm_at) {
        if (Clock::now() >= *cmd.confirm_at) {
          lock.unlock();
          confirm(cmd);
          lock.lock();
          continue;
        }
        cv_.wait_until(lock, *cmd.confirm_at);
      } else {
        cv_.wait(lock);
      }
    }
  }

  void report(const CommandState& cmd) {
    json::object o{{"type", "status"}, {"ref", cmd.id}, {"state", cmd.state}};
    if (cmd.state != "downloading") o["model"] = model_ref(cmd.model);
    if (!cmd.error.empty()) o["error"] = cmd.error.substr(0, 1024);
    post_frame(json::serialize(o));
  }

  void handle_command(CommandState& cmd, const CommandJob& job) {
    if (job.id == cmd.id) {  // sent again (a hello's catch-up): say where it stands
      report(cmd);
      return;
    }
    spdlog::info("agent: command {}: {} to {}:{}", job.id, job.action, job.model.name,
                 job.model.version);
    cmd = CommandState{.id = job.id, .model = job.model};
    auto active = current();
    if (active && active->info == job.model) {
      cmd.state = "applied";  // runs it already: only the confirm window is left
    } else {
      cmd.state = "downloading";
      report(cmd);
      auto next = fetch_and_activate(job);
      if (!next.ok()) {
        cmd.state = "failed";
        cmd.error = next.status().message();
        spdlog::warn("agent: command {} failed: {}; still running {}", job.id, cmd.error,
                     active ? active->info.name + ":" + std::to_string(active->info.version)
                            : std::string("no model"));
        report(cmd);
        return;
      }
      cmd.fallback = active;
      switch_to(*next);
      cmd.state = "applied";
    }
    report(cmd);
    cmd.confirm_at = Clock::now() + std::chrono::seconds(job.confirm_s);
  }

  void confirm(CommandState& cmd) {
    cmd.confirm_at.reset();
    auto active = current();
    const uint64_t failures = active ? active->failures.load() : 0;
    if (failures == 0) {
      cmd.state = "confirmed";
      spdlog::info("agent: command {}: confirmed {}:{}", cmd.id, cmd.model.name, cmd.model.version);
    } else {
      cmd.state = "failed";
      cmd.error = std::to_string(failures) + " predictions failed before it was confirmed";
      spdlog::warn("agent: command {}: {}; switching back", cmd.id, cmd.error);
      if (cmd.fallback) switch_to(cmd.fallback);
    }
    report(cmd);
  }

  Expected<std::shared_ptr<const ActiveModel>> fetch_and_activate(const CommandJob& job) {
    const InstalledModel& m = job.model;
    if (!fleet::verify_model_signature(identity_.signing_key, m.name, m.version, m.sha256,
                                       job.signature)) {
      return invalid_argument("the signature of " + m.name + ":" + std::to_string(m.version) +
                              " does not verify with the server's key");
    }
    const fs::path path = artifact_path(options_.state_dir, m.sha256);
    auto bytes = read_artifact(options_.state_dir, m.sha256, options_.max_model_bytes);
    if (!bytes) {
      if (!http_) {
        auto c =
            client::HttpClient::create(identity_.server, client_options(options_, identity_.token));
        if (!c.ok()) return c.status();
        http_ = std::move(*c);
      }
      auto got = http_->download_to_file(job.url, path, options_.max_model_bytes);
      if (!got.ok()) return invalid_argument("download: " + got.status().message());
      if (got->sha256 != m.sha256) {
        std::error_code ec;
        fs::remove(path, ec);
        return invalid_argument("the artifact's sha256 is " + got->sha256 + ", not " + m.sha256);
      }
      auto fetched = read_file(path, options_.max_model_bytes);  // its sha256 is checked above
      if (!fetched.ok()) return fetched.status();
      bytes = std::move(*fetched);
    }
    return activate(runtimes_, m, *bytes);
  }

  void switch_to(std::shared_ptr<const ActiveModel> next) {
    {
      std::lock_guard lock(model_mu_);
      active_ = next;
    }
    if (Status s = save_current(options_.state_dir, next->info); !s.ok()) {
      spdlog::warn("agent: {}", s.message());
    }
    spdlog::info("agent: now running {}:{}", next->info.name, next->info.version);
    prune_artifacts(next->info.sha256);
  }

  // Keeps the running model's artifact and the one before it (a rollback needs no download).
  void prune_artifacts(const std::string& running) {
    if (!kept_.empty() && kept_.back() == running) return;
    kept_.push_back(running);
    if (kept_.size() > 2) kept_.erase(kept_.begin());
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(options_.state_dir / "models", ec)) {
      const std::string name = entry.path().filename().string();
      if (std::find(kept_.begin(), kept_.end(), name) == kept_.end()) fs::remove(entry.path(), ec);
    }
  }

  std::shared_ptr<const ActiveModel> current() {
    std::lock_guard lock(model_mu_);
    return active_;
  }

  // The model the last run ran, checked again; an agent whose file is gone starts with none.
  Status restore_model() {
    auto saved = load_current(options_.state_dir);
    if (!saved.ok()) {
      spdlog::warn("agent: {}; starting with no model", saved.status().message());
      return {};
    }
    if (!*saved) return {};
    const InstalledModel& m = **saved;
    auto bytes = read_artifact(options_.state_dir, m.sha256, options_.max_model_bytes);
    if (!bytes) {
      spdlog::warn("agent: the file of {}:{} is missing or changed; starting with no model", m.name,
                   m.version);
      return {};
    }
    auto active = activate(runtimes_, m, *bytes);
    if (!active.ok()) {
      spdlog::warn("agent: {}:{} no longer loads ({}); starting with no model", m.name, m.version,
                   active.status().message());
      return {};
    }
    active_ = *active;
    kept_.push_back(m.sha256);
    spdlog::info("agent: running {}:{} from the last run", m.name, m.version);
    return {};
  }

  // ---- input, on its own thread ---------------------------------------------------------------

  void input_loop() {
    int fd = 0;
    bool follow = false;
    if (options_.input != "-") {
      fd = ::open(options_.input.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        spdlog::error("agent: cannot open {}: {}", options_.input, std::strerror(errno));
        return;
      }
      struct stat st {};
      follow = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    }
    std::string pending;
    char buf[64 * 1024];
    uint64_t line_no = 0;
    bool header_seen = false;
    while (!is_stopping()) {
      if (!current()) {  // rows wait in the file or pipe until there is a model to score them
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (!follow) break;  // the pipe ended
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      pending.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        on_line(std::string_view(pending).substr(start, nl - start), ++line_no, header_seen);
      }
      pending.erase(0, start);
      if (pending.size() > kMaxCsvLineBytes) {
        spdlog::warn("agent: input line {} is longer than {} bytes; skipped", ++line_no,
                     kMaxCsvLineBytes);
        pending.clear();
      }
    }
    if (fd != 0) ::close(fd);
  }

  void on_line(std::string_view line, uint64_t line_no, bool& header_seen) {
    CsvRow row = parse_csv_row(line);
    if (row.kind == CsvRow::Kind::kSkip) return;
    if (row.kind == CsvRow::Kind::kText && !header_seen && line_no == 1) {
      header_seen = true;
      return;
    }
    if (row.kind != CsvRow::Kind::kValues) {
      return note_bad_row(line_no, row.kind == CsvRow::Kind::kText ? row.error : "too long");
    }
    auto active = current();
    if (!active) return note_bad_row(line_no, "no model to score it with yet");
    auto s = score(*active, row.values);
    if (!s.ok()) return note_bad_row(line_no, s.status().message());
    if (!raises_alarm(*active, *s)) return;
    char seq[24];
    std::snprintf(seq, sizeof(seq), "%012llu", static_cast<unsigned long long>(++alarm_seq_));
    const std::string id = alarm_prefix_ + "-" + seq;  // sorts in the order raised
    json::object alarm{
        {"type", "alarm"},
        {"id", id},
        {"at", now_rfc3339()},
        {"severity", options_.severity},
        {"model", model_ref(active->info)},
        {"details", {{"score", *s}, {"threshold", *active->alarm_threshold}, {"line", line_no}}}};
    asio::post(ioc_, [this, id, frame = json::serialize(alarm)] {
      if (pending_alarms_.size() >= options_.max_pending_alarms) {
        if (dropped_alarms_++ % 1000 == 0) {
          spdlog::warn("agent: {} alarms wait for the server; dropped {} so far",
                       pending_alarms_.size(), dropped_alarms_);
        }
        return;
      }
      pending_alarms_.emplace(id, frame);
      if (welcomed_) send_alarms(conn_);
    });
  }

  void note_bad_row(uint64_t line_no, const std::string& why) {
    if (bad_rows_++ % 1000 == 0) {
      spdlog::warn("agent: input line {} not scored: {} ({} such lines so far)", line_no, why,
                   bad_rows_);
    }
  }

  bool is_stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  AgentOptions options_;
  Identity identity_;
  const runtime::RuntimeRegistry& runtimes_;
  client::Url url_;

  // The event loop and what only its thread touches.
  asio::io_context ioc_;
  asio::ssl::context ssl_;
  asio::steady_timer ping_timer_;
  asio::steady_timer retry_timer_;
  ConnPtr conn_;
  bool welcomed_ = false;
  bool stopped_ = false;
  int attempt_ = 0;
  Clock::time_point last_heard_;
  std::mt19937_64 rng_;
  Status fatal_;
  // Alarms not yet acknowledged, by id (ids sort in the order they were raised).
  std::map<std::string, std::string> pending_alarms_;
  std::set<std::string> in_flight_;  // sent in this session, not acknowledged yet
  uint64_t dropped_alarms_ = 0;

  // Between the threads.
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::optional<CommandJob> next_job_;

  std::mutex model_mu_;
  std::shared_ptr<const ActiveModel> active_;

  // The command thread's.
  std::unique_ptr<client::HttpClient> http_;
  std::vector<std::string> kept_;

  // The input thread's.
  const std::string alarm_prefix_;
  uint64_t alarm_seq_ = 0;
  uint64_t bad_rows_ = 0;
};

// ---------------------------------------------------------------------------------------------

Agent::Agent(AgentOptions options, Identity identity, const runtime::RuntimeRegistry& runtimes)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(identity), runtimes)) {}
Agent::~Agent() = default;
Status Agent::run() { return impl_->run(); }
void Agent::stop() { impl_->stop(); }

Expected<Identity> obtain_identity(const AgentOptions& o) {
  if (Status s = prepare_state_dir(o.state_dir); !s.ok()) return s;
  auto saved = load_identity(o.state_dir);
  if (!saved.ok()) return saved.status();
  if (*saved) {
    Identity id = std::move(**saved);
    if (!o.server.empty()) id.server = o.server;  // the server moved: not saved
    return id;
  }
  if (o.code.empty() && o.token.empty()) {
    return failed_precondition(
        "this agent is not enrolled: give --code (from `vigil device enroll DEVICE`) or --token");
  }
  if (o.server.empty()) return failed_precondition("no server: give --url");
  Identity id{.server = o.server};
  if (!o.code.empty()) {
    auto http = client::HttpClient::create(o.server, client_options(o, ""));
    if (!http.ok()) return http.status();
    std::string watchdog = o.watchdog;
    if (watchdog.empty()) {
      char host[256] = {};
      ::gethostname(host, sizeof(host) - 1);
      watchdog = host;
    }
    auto answer = (*http)->call_json(beast::http::verb::post, "/api/v1/enroll",
                                     json::object{{"code", o.code}, {"watchdog", watchdog}});
    if (!answer.ok()) return answer.status();
    const json::object* a = answer->if_object();
    if (!a) return internal_error("the enrollment answer is not a JSON object");
    id.watchdog = string_of(*a, "watchdog");
    id.device = string_of(*a, "device");
    id.token = string_of(*a, "token");
    id.signing_key = string_of(*a, "signing_key");
  } else {
    auto http = client::HttpClient::create(o.server, client_options(o, o.token));
    if (!http.ok()) return http.status();
    auto key = (*http)->get_json("/api/v1/fleet/signing-key");
    if (!key.ok()) return key.status();
    id.token = o.token;
    if (const json::object* k = key->if_object()) id.signing_key = string_of(*k, "public_key");
  }
  if (id.token.empty() || id.signing_key.empty()) {
    return internal_error("the server's answer lacks the token or the signing key");
  }
  if (Status s = save_identity(o.state_dir, id); !s.ok()) return s;
  spdlog::info("agent: enrolled{} with {}; identity saved in {}",
               id.watchdog.empty() ? "" : " as watchdog " + id.watchdog, o.server,
               (o.state_dir / "agent.json").string());
  return id;
}

namespace {
int g_signal_pipe[2] = {-1, -1};
void on_signal(int) {
  const char c = 1;
  [[maybe_unused]] auto n = ::write(g_signal_pipe[1], &c, 1);
}
}  // namespace

int run_agent(const AgentOptions& options) {
  auto id = obtain_identity(options);
  if (!id.ok()) {
    spdlog::error("agent: {}", id.status().detail());
    const ErrorCode code = id.status().code();
    return code == ErrorCode::kInternal || code == ErrorCode::kUnavailable ? 1 : 2;
  }
  auto runtimes = runtime::default_runtimes();
  Agent agent(options, std::move(*id), *runtimes);

  // Signals reach a thread that calls stop(): a handler may only write to a pipe.
  if (::pipe2(g_signal_pipe, O_CLOEXEC) != 0) return 1;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::thread watcher([&] {
    char c = 0;
    while (::read(g_signal_pipe[0], &c, 1) < 0 && errno == EINTR) {
    }
    if (c == 1) agent.stop();
  });
  Status s = agent.run();
  const char done = 2;
  [[maybe_unused]] auto n = ::write(g_signal_pipe[1], &done, 1);
  watcher.join();
  ::close(g_signal_pipe[0]);
  ::close(g_signal_pipe[1]);
  if (s.ok()) return 0;
  spdlog::error("agent: {}", s.detail());
  return s.code() == ErrorCode::kUnauthenticated ? 3 : 1;
}

}  // namespace vigil::agent
