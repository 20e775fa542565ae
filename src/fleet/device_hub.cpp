#include "fleet/device_hub.h"

#include <spdlog/spdlog.h>

#include "core/blocking_pool.h"
#include "core/ids.h"
#include "core/names.h"
#include "core/thread_name.h"
#include "telemetry/telemetry_service.h"

namespace vigil::fleet {

using store::Value;

// A telemetry message of a session waiting for its turn on the blocking pool: parsed, or its
// text still (larger than kMaxDeviceMessageBytes: read on the pool).
struct DeviceHub::TelemetryJob {
  std::string ref_json;
  TelemetryMessage message;
  std::string text;
  bool greeted = false;  // the session's, when the worker came to the message
  int64_t device_id = 0;
};

struct DeviceHub::Session {
  Session(std::shared_ptr<DeviceLink> l, int64_t user) : link(std::move(l)), user_id(user) {}

  std::shared_ptr<DeviceLink> link;
  const int64_t user_id;
  std::atomic<size_t> pending{0};
  std::atomic<size_t> telemetry_in_flight{0};  // telemetry messages received, not yet answered
  std::mutex telemetry_mu;
  std::deque<TelemetryJob> telemetry_jobs;  // under telemetry_mu: to store, in arrival order
  bool telemetry_running = false;           // under telemetry_mu: a pool task stores them
  bool ended = false;                       // under sessions_mu_: closed() ran; never register it
  bool registered = false;                  // under sessions_mu_: in by_device_
  // The worker thread's own:
  bool greeted = false;
  int64_t watchdog_id = 0;
  int64_t device_id = 0;
  std::string watchdog;
  std::string device;
};

struct DeviceHub::Item {
  enum class Kind { kMessage, kClose } kind = Kind::kMessage;
  std::shared_ptr<Session> session;
  DeviceMessage message;
  std::string ref_json = "null";
  std::string text;  // with an empty TelemetryMessage: a large message, not read yet
};

// What a batch does once its transaction committed.
struct DeviceHub::Batch {
  std::vector<std::function<void()>> after;
};

namespace {

std::string offer_key(std::string_view name, int64_t version) {
  return name_key(name) + ":" + std::to_string(version);
}

// "$2, $3, …" for n parameters after `first - 1` others.
std::string placeholders(size_t first, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += (i ? ", $" : "$") + std::to_string(first + i);
  return out;
}

}  // namespace

DeviceHub::DeviceHub(store::Database& db, AlarmStore& alarms, const ModelSigner& signer,
                     ModelLookup lookup, MetricsRegistry& metrics, DeviceHubOptions options)
    : db_(db),
      alarms_(alarms),
      signer_(signer),
      lookup_(std::move(lookup)),
      options_(options),
      sessions_gauge_(metrics.gauge("vigil_fleet_sessions", "Device sessions open on this node")),
      commands_sent_(metrics.counter("vigil_fleet_commands_sent_total",
                                     "Commands sent to device sessions (resends included)")),
      messages_refused_(metrics.counter(
          "vigil_fleet_messages_refused_total",
          "Device messages answered with an error (malformed, unknown, out of order)")),
      telemetry_points_(metrics.counter("vigil_fleet_telemetry_points_total",
                                        "Telemetry points stored from device sessions")),
      metrics_(metrics) {}

DeviceHub::~DeviceHub() { stop(); }

void DeviceHub::start() {
  std::lock_guard lock(queue_mu_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] { run(); });
}

void DeviceHub::stop() {
  std::vector<std::shared_ptr<Session>> all;
  {
    std::lock_guard lock(sessions_mu_);
    for (auto& [id, list] : by_device_) all.insert(all.end(), list.begin(), list.end());
  }
  for (auto& s : all) s->link->close("server shutting down");
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::shared_ptr<DeviceHub::Session> DeviceHub::open(std::shared_ptr<DeviceLink> link,
                                                    int64_t user_id) {
  return std::make_shared<Session>(std::move(link), user_id);
}

void DeviceHub::receive(const std::shared_ptr<Session>& session, std::string_view text) {
  if (text.size() > kMaxDeviceMessageBytes) {
    // Only telemetry may be this large (up to 1 MiB): it is read on the pool, not on this
    // (I/O) thread, so it counts as telemetry already, and a refusal has no ref.
    if (!admit_telemetry(*session, "null")) return;
    Item item{Item::Kind::kMessage, session, TelemetryMessage{}, "null"};
    item.text = std::string(text);
    return enqueue_message(std::move(item));
  }
  ParsedDeviceMessage parsed = parse_device_message(text);
  if (!parsed.message) {
    messages_refused_.inc();
    session->link->send(error_frame(parsed.ref_json, parsed.error));
    return;
  }
  if (std::holds_alternative<PingMessage>(*parsed.message)) {
    session->link->send(pong_frame());
    return;
  }
  if (std::holds_alternative<TelemetryMessage>(*parsed.message) &&
      !admit_telemetry(*session, parsed.ref_json)) {
    return;
  }
  enqueue_message({Item::Kind::kMessage, session, std::move(*parsed.message), parsed.ref_json});
}

// A telemetry message counts as unanswered from here; false (answered with an error) when the
// session has too many or there is no telemetry service.
bool DeviceHub::admit_telemetry(Session& session, std::string_view ref_json) {
  std::string why;
  if (!telemetry_) {
    why = "this server takes no telemetry over the device WebSocket";
  } else if (session.telemetry_in_flight.fetch_add(1, std::memory_order_relaxed) >=
             options_.max_telemetry_in_flight) {
    session.telemetry_in_flight.fetch_sub(1, std::memory_order_relaxed);
    why = "more than " + std::to_string(options_.max_telemetry_in_flight) +
          " telemetry messages wait for their ack; wait for acks, then send it again";
  }
  if (why.empty()) return true;
  messages_refused_.inc();
  session.link->send(error_frame(ref_json, why));
  return false;
}

void DeviceHub::enqueue_message(Item item) {
  Session& session = *item.session;
  if (session.pending.fetch_add(1, std::memory_order_relaxed) >= options_.max_pending) {
    session.pending.fetch_sub(1, std::memory_order_relaxed);
    if (std::holds_alternative<TelemetryMessage>(item.message)) {
      session.telemetry_in_flight.fetch_sub(1, std::memory_order_relaxed);
    }
    messages_refused_.inc();
    session.link->send(error_frame(item.ref_json, "too many messages waiting; slow down"));
    session.link->close("too many messages waiting");
    return;
  }
  enqueue(std::move(item));
}

void DeviceHub::closed(const std::shared_ptr<Session>& session) {
  {
    std::lock_guard lock(sessions_mu_);
    session->ended = true;
    if (std::exchange(session->registered, false)) sessions_gauge_.add(-1);
    auto it = by_device_.find(session->device_id);
    if (it != by_device_.end()) {
      std::erase(it->second, session);
      if (it->second.empty()) by_device_.erase(it);
    }
    auto u = by_user_.find(session->user_id);
    if (u != by_user_.end() && u->second == session) by_user_.erase(u);
  }
  enqueue({Item::Kind::kClose, session, PingMessage{}, "null"});
}

void DeviceHub::enqueue(Item item) {
  {
    std::lock_guard lock(queue_mu_);
    queue_.push_back(std::move(item));
  }
  queue_cv_.notify_one();
}

void DeviceHub::run() {
  set_thread_name("vigil-fleet");
  const auto renew_every =
      std::max<std::chrono::seconds>(options_.lease / 3, std::chrono::seconds(1));
  auto next_renew = std::chrono::steady_clock::now() + renew_every;
  std::vector<Item> items;
  for (;;) {
    items.clear();
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait_until(lock, next_renew, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_ && queue_.empty()) break;
      while (!queue_.empty() && items.size() < options_.batch) {
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!items.empty()) process(items);
    if (std::chrono::steady_clock::now() >= next_renew) {
      renew_leases();
      next_renew = std::chrono::steady_clock::now() + renew_every;
    }
  }
}

void DeviceHub::process(std::vector<Item>& items) {
  for (auto& item : items) {
    if (item.kind == Item::Kind::kMessage) {
      item.session->pending.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  // Hellos, statuses and closes: one transaction for the batch. Should it fail, each item gets
  // its own, so one bad item costs only itself.
  Batch batch;
  Status st = db_.write([&](store::Session& s) -> Status {
    batch.after.clear();
    for (auto& item : items) VIGIL_RETURN_IF_ERROR(apply(s, item, batch));
    return {};
  });
  if (!st.ok()) {
    spdlog::warn("device hub: a batch of {} failed ({}); applying one by one", items.size(),
                 st.to_string());
    batch.after.clear();
    for (auto& item : items) {
      Batch one;
      Status each = db_.write([&](store::Session& s) -> Status {
        one.after.clear();
        return apply(s, item, one);
      });
      if (each.ok()) {
        batch.after.insert(batch.after.end(), one.after.begin(), one.after.end());
      } else if (item.kind == Item::Kind::kMessage) {
        if (std::holds_alternative<HelloMessage>(item.message)) item.session->greeted = false;
        item.session->link->send(
            error_frame(item.ref_json, "the server could not store this; send it again"));
      }
    }
  }
  for (auto& fn : batch.after) fn();
  // Alarms and pulls have their own transactions and reads; telemetry goes to the pool.
  for (auto& item : items) {
    if (item.kind != Item::Kind::kMessage) continue;
    if (std::holds_alternative<AlarmMessage>(item.message)) handle_alarm(item);
    if (std::holds_alternative<PullMessage>(item.message)) handle_pull(item);
    if (std::holds_alternative<TelemetryMessage>(item.message)) handle_telemetry(item);
  }
}

Status DeviceHub::apply(store::Session& s, Item& item, Batch& out) {
  if (item.kind == Item::Kind::kClose) return apply_close(s, item, out);
  if (std::holds_alternative<HelloMessage>(item.message)) return apply_hello(s, item, out);
  if (std::holds_alternative<StatusMessage>(item.message)) return apply_status(s, item, out);
  return {};
}

Status DeviceHub::apply_hello(store::Session& s, Item& item, Batch& out) {
  const auto& hello = std::get<HelloMessage>(item.message);
  auto session = item.session;
  const auto now_tp = std::chrono::system_clock::now();
  const std::string now = format_rfc3339(now_tp);
  const std::string until = format_rfc3339(now_tp + options_.lease);
  std::vector<Value> p{hello.agent,
                       model_name_or_null(hello.model),
                       model_version_or_null(hello.model),
                       now,
                       until,
                       session->user_id};
  auto w = s.query(
      "UPDATE watchdogs SET agent = $1, running_model = $2, running_version = $3, "
      "last_seen = $4, online_until = $5 WHERE user_id = $6 RETURNING id, device_id, name",
      p);
  if (!w.ok()) return w.status();
  if (w->empty()) {
    session->greeted = false;
    out.after.push_back([session, ref = item.ref_json] {
      session->link->send(error_frame(ref, "this watchdog no longer exists"));
      session->link->close("unknown watchdog");
    });
    return {};
  }
  session->watchdog_id = w->get_int(0, 0);
  session->device_id = w->get_int(0, 1);
  session->watchdog = w->get_text(0, 2);
  std::vector<Value> q{model_name_or_null(hello.model), model_version_or_null(hello.model), now,
                       until, session->device_id};
  auto d = s.query(
      "UPDATE devices SET running_model = $1, running_version = $2, last_seen = $3, "
      "online_until = $4 WHERE id = $5 RETURNING name, model, model_version",
      q);
  if (!d.ok()) return d.status();
  if (d->empty()) return not_found("the watchdog's device is gone");
  session->device = d->get_text(0, 0);
  std::optional<ModelRef> desired;
  if (!d->is_null(0, 1)) desired = ModelRef{d->get_text(0, 1), d->get_int(0, 2)};
  session->greeted = true;

  // The command it is missing: its unfinished one again, or a new one for the desired model.
  auto open = unfinished_command(s, session->device_id);
  if (!open.ok()) return open.status();
  std::optional<Command> command = std::move(*open);
  if (!command && desired && hello.model != desired) {
    auto last = latest_command_for(s, session->device_id, *desired);
    if (!last.ok()) return last.status();
    if (!*last || (*last)->state != "failed") {
      auto issued = issue_command(
          s, db_.dialect(),
          {.device_id = session->device_id, .action = RolloutAction::kUpdate, .model = *desired},
          now);
      if (!issued.ok()) return issued.status();
      command = std::move(*issued);
    }
  }
  out.after.push_back([this, session, desired, command] {
    std::shared_ptr<Session> replaced;
    {
      std::lock_guard lock(sessions_mu_);
      if (session->ended) return;
      if (!session->registered) {
        by_device_[session->device_id].push_back(session);
        session->registered = true;
        sessions_gauge_.add(1);
      }
      auto& current = by_user_[session->user_id];
      if (current && current != session) replaced = current;
      current = session;
    }
    if (replaced) replaced->link->close("replaced by a newer session of this watchdog");
    std::optional<ModelOffer> assigned;
    if (desired) {
      auto o = offer(desired->name, desired->version);
      if (o.ok()) {
        assigned = std::move(*o);
      } else {
        spdlog::warn("device {}: its model {}:{} cannot be offered: {}", session->device,
                     desired->name, desired->version, o.status().to_string());
      }
    }
    session->link->send(welcome_frame(session->watchdog, session->device, assigned));
    if (command) send_command(*session, *command);
    if (hooks_.connected) hooks_.connected(session->device_id, session->device);
  });
  return {};
}

Status DeviceHub::apply_status(store::Session& s, Item& item, Batch& out) {
  const auto& status = std::get<StatusMessage>(item.message);
  auto session = item.session;
  auto refuse = [&](std::string detail) {
    messages_refused_.inc();
    out.after.push_back([session, ref = item.ref_json, detail = std::move(detail)] {
      session->link->send(error_frame(ref, detail));
    });
    return Status{};
  };
  if (!session->greeted) return refuse("send hello first");
  auto r = apply_device_report(s, session->device_id, session->watchdog_id, status.ref,
                               status.state, status.error, now_rfc3339());
  if (r.status().code() == ErrorCode::kNotFound) {
    return refuse("no command " + std::to_string(status.ref) + " for this device");
  }
  if (!r.ok()) return r.status();
  if (!r->changed) return {};
  const Command& cmd = r->command;
  out.after.push_back([this, cmd, state = status.state] {
    metrics_
        .counter("vigil_fleet_command_reports_total",
                 "Command reports that moved a command on, by the state reported",
                 {{"state", std::string(to_string(state))}})
        .inc();
    if (hooks_.command_reported) hooks_.command_reported(cmd);
  });
  return {};
}

Status DeviceHub::apply_close(store::Session& s, Item& item, Batch& out) {
  auto session = item.session;
  if (!session->greeted) return {};
  bool device_elsewhere = false;
  bool user_elsewhere = false;
  {
    std::lock_guard lock(sessions_mu_);
    device_elsewhere = by_device_.count(session->device_id) > 0;
    user_elsewhere = by_user_.count(session->user_id) > 0;
  }
  const std::string now = now_rfc3339();
  if (!device_elsewhere) {
    std::vector<Value> p{now, session->device_id};
    VIGIL_RETURN_IF_ERROR(
        s.exec("UPDATE devices SET online_until = NULL, last_seen = $1 WHERE id = $2", p).status());
  }
  if (!user_elsewhere) {
    std::vector<Value> p{now, session->watchdog_id};
    VIGIL_RETURN_IF_ERROR(
        s.exec("UPDATE watchdogs SET online_until = NULL, last_seen = $1 WHERE id = $2", p)
            .status());
  }
  out.after.push_back([this, session, device_elsewhere] {
    if (!device_elsewhere && hooks_.disconnected) {
      hooks_.disconnected(session->device_id, session->device);
    }
  });
  return {};
}

void DeviceHub::handle_alarm(Item& item) {
  const auto& alarm = std::get<AlarmMessage>(item.message);
  auto& session = *item.session;
  if (!session.greeted) {
    messages_refused_.inc();
    session.link->send(error_frame(item.ref_json, "send hello first"));
    return;
  }
  AlarmReport report{.device_id = session.device_id,
                     .watchdog_id = session.watchdog_id,
                     .sensor = alarm.sensor,
                     .model = alarm.model,
                     .severity = alarm.severity,
                     .source = "watchdog",
                     .details = alarm.details,
                     .at = alarm.at,
                     .client_id = alarm.id};
  auto stored = alarms_.report(report);
  if (!stored.ok()) {
    const bool retry = stored.status().code() == ErrorCode::kUnavailable;
    session.link->send(
        error_frame(item.ref_json, retry ? "the server could not store this alarm; send it again"
                                         : stored.status().message()));
    return;
  }
  metrics_
      .counter("vigil_fleet_alarm_reports_total", "Alarm reports stored, by severity",
               {{"severity", alarm.severity}})
      .inc();
  session.link->send(ack_frame(alarm.id));
  if (hooks_.alarm_reported) hooks_.alarm_reported(*stored);
}

void DeviceHub::handle_pull(Item& item) {
  const auto& pull = std::get<PullMessage>(item.message);
  auto& session = *item.session;
  if (!session.greeted) {
    messages_refused_.inc();
    session.link->send(error_frame(item.ref_json, "send hello first"));
    return;
  }
  auto o = offer(pull.model, pull.version);
  if (!o.ok()) {
    session.link->send(error_frame(item.ref_json, o.status().message()));
    return;
  }
  session.link->send(model_frame(*o));
}

// On the worker: the message joins the session's telemetry queue, and a pool task starts
// storing it unless one runs for the session already.
void DeviceHub::handle_telemetry(Item& item) {
  const std::shared_ptr<Session>& session = item.session;
  {
    std::lock_guard lock(session->telemetry_mu);
    session->telemetry_jobs.push_back({item.ref_json,
                                       std::move(std::get<TelemetryMessage>(item.message)),
                                       std::move(item.text), session->greeted, session->device_id});
    if (std::exchange(session->telemetry_running, true)) return;
  }
  if (telemetry_pool_->try_post([this, session] { ingest_next(session); })) return;
  // The pool's queue is full: what waits is refused, to be sent again (only this thread adds
  // jobs, and no task runs for the session).
  std::deque<TelemetryJob> refused;
  {
    std::lock_guard lock(session->telemetry_mu);
    refused.swap(session->telemetry_jobs);
    session->telemetry_running = false;
  }
  for (const TelemetryJob& job : refused) {
    messages_refused_.inc();
    answer_telemetry(*session, error_frame(job.ref_json, "the server is busy; send it again"));
  }
}

// On the pool: stores the session's oldest waiting telemetry message, answers it, and hands the
// next one (if any) to a new pool task, so that one busy device does not hold a thread.
void DeviceHub::ingest_next(const std::shared_ptr<Session>& session) {
  TelemetryJob job;
  {
    std::lock_guard lock(session->telemetry_mu);
    job = std::move(session->telemetry_jobs.front());
    session->telemetry_jobs.pop_front();
  }
  answer_telemetry(*session, store_telemetry(job));
  {
    std::lock_guard lock(session->telemetry_mu);
    if (session->telemetry_jobs.empty()) {
      session->telemetry_running = false;
      return;
    }
  }
  telemetry_pool_->post([this, session] { ingest_next(session); });
}

// On the pool: reads a large message, stores the points; the ack or the error.
std::string DeviceHub::store_telemetry(TelemetryJob& job) {
  if (!job.text.empty()) {
    ParsedDeviceMessage parsed = parse_device_message(job.text);
    job.ref_json = parsed.ref_json;
    auto* message = parsed.message ? std::get_if<TelemetryMessage>(&*parsed.message) : nullptr;
    if (!message) {  // (a large message that parses is telemetry: others are refused as large)
      messages_refused_.inc();
      return error_frame(parsed.ref_json, parsed.message ? "not telemetry" : parsed.error);
    }
    job.message = std::move(*message);
  }
  if (!job.greeted) {
    messages_refused_.inc();
    return error_frame(job.ref_json, "send hello first");
  }
  auto accepted = telemetry_->ingest(std::move(job.message.points), job.device_id);
  if (accepted.ok()) {
    telemetry_points_.inc(*accepted);
    return ack_frame(job.message.id, *accepted);
  }
  messages_refused_.inc();
  const ErrorCode code = accepted.status().code();
  if (code == ErrorCode::kInvalidArgument || code == ErrorCode::kPermissionDenied ||
      code == ErrorCode::kResourceExhausted) {
    return error_frame(job.ref_json, accepted.status().detail());
  }
  spdlog::warn("device {}: storing telemetry failed: {}", job.device_id,
               accepted.status().to_string());
  return error_frame(job.ref_json, "the server could not store these points; send them again");
}

// The session may send another telemetry message as soon as it reads this answer.
void DeviceHub::answer_telemetry(Session& session, std::string frame) {
  session.telemetry_in_flight.fetch_sub(1, std::memory_order_relaxed);
  session.link->send(std::move(frame));
}

void DeviceHub::renew_leases() {
  std::vector<int64_t> devices, watchdogs;
  {
    std::lock_guard lock(sessions_mu_);
    for (const auto& [id, list] : by_device_) {
      devices.push_back(id);
      for (const auto& s : list) watchdogs.push_back(s->watchdog_id);
    }
  }
  if (devices.empty()) return;
  const auto now_tp = std::chrono::system_clock::now();
  const std::string now = format_rfc3339(now_tp);
  const std::string until = format_rfc3339(now_tp + options_.lease);
  constexpr size_t kChunk = 500;
  auto renew = [&](std::string_view table, const std::vector<int64_t>& ids) {
    for (size_t at = 0; at < ids.size(); at += kChunk) {
      const size_t n = std::min(kChunk, ids.size() - at);
      std::vector<Value> p{until, now};
      for (size_t i = 0; i < n; ++i) p.emplace_back(ids[at + i]);
      auto done = db_.exec("UPDATE " + std::string(table) +
                               " SET online_until = $1, last_seen = $2 WHERE id IN (" +
                               placeholders(3, n) + ")",
                           p);
      if (!done.ok())
        spdlog::warn("device hub: renewing leases failed: {}", done.status().to_string());
    }
  };
  renew("devices", devices);
  renew("watchdogs", watchdogs);
}

Expected<Assignment> DeviceHub::assign(std::string_view device, const ModelRef& model) {
  auto a = assign_model(db_, device, model);
  if (a.ok() && a->command) deliver(*a->command);
  return a;
}

void DeviceHub::deliver(const Command& command) {
  std::vector<std::shared_ptr<Session>> targets;
  {
    std::lock_guard lock(sessions_mu_);
    auto it = by_device_.find(command.device_id);
    if (it == by_device_.end()) return;
    targets = it->second;
  }
  for (auto& s : targets) send_command(*s, command);
}

void DeviceHub::send_command(Session& session, const Command& command) {
  auto o = offer(command.model.name, command.model.version);
  if (!o.ok()) {
    spdlog::warn("command {}: model {}:{} cannot be offered: {}", command.id, command.model.name,
                 command.model.version, o.status().to_string());
    return;
  }
  session.link->send(
      command_frame(command.id, command.action, *o, command.rollout_id, command.confirm_s));
  commands_sent_.inc();
}

Expected<ModelOffer> DeviceHub::offer(std::string_view name, std::optional<int64_t> version) {
  if (version) {
    std::lock_guard lock(offers_mu_);
    auto it = offers_.find(offer_key(name, *version));
    if (it != offers_.end()) return it->second;
  }
  auto found = lookup_(name, version);
  if (!found.ok()) return found.status();
  ModelOffer o = std::move(*found);
  o.signature = signer_.sign(o.name, o.version, o.sha256);
  o.url = artifact_url(o.name, o.version);
  std::lock_guard lock(offers_mu_);
  constexpr size_t kMaxCachedOffers = 4096;
  if (offers_.size() >= kMaxCachedOffers) offers_.clear();
  offers_[offer_key(o.name, o.version)] = o;
  return o;
}

void DeviceHub::disconnect_user(int64_t user_id, std::string_view reason) {
  std::shared_ptr<Session> s;
  {
    std::lock_guard lock(sessions_mu_);
    auto it = by_user_.find(user_id);
    if (it != by_user_.end()) s = it->second;
  }
  if (s) s->link->close(reason);
}

size_t DeviceHub::session_count() const {
  std::lock_guard lock(sessions_mu_);
  return by_user_.size();
}

bool DeviceHub::online_here(int64_t device_id) const {
  std::lock_guard lock(sessions_mu_);
  return by_device_.count(device_id) > 0;
}

}  // namespace vigil::fleet
