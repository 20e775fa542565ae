// DeviceHub: the device WebSocket sessions of this node (../shared/docs/API.md "WebSocket:
// devices", docs/protocol.md). It reads what agents send, keeps the store up to date (who is
// online, what each device runs, where each command is), answers, and pushes commands.
//
// - Each session is a DeviceLink (api/ adapts a net::WsConnection to it). A link's send()
//   never blocks: the link has its own bounded write queue and closes a peer that does not
//   read, which then catches up on reconnect — one slow device never stalls the others.
// - Messages are parsed on the caller's (I/O) thread, and a ping is answered there; but one
//   larger than kMaxDeviceMessageBytes (only telemetry may be, up to 1 MiB: 10–20 ms to read)
//   is parsed on the blocking pool with the session's other telemetry. Everything that
//   touches the store goes to the hub's worker thread, in arrival order per session, and is
//   written in batches: one transaction for up to `batch` messages of all sessions, so a
//   rollout's thousands of confirmations cost a few commits, not thousands. Answers and hooks
//   run only after their transaction committed (the store first, then the wire).
// - Telemetry (points a device streams) is stored by the TelemetryService on the blocking pool,
//   one message of a session at a time, so its acks come in the order of its telemetry messages
//   (answers to its other messages may overtake them). A session has at most
//   max_telemetry_in_flight telemetry messages unanswered; one more is refused with an error
//   ("wait for acks"), and the session goes on.
// - On every hello the hub compares what the device reports with what it should run, and sends
//   its unfinished command again or issues the missing one: offline devices, crashes and lost
//   messages all heal there. It does not re-issue a command that already failed for the
//   desired model (an admin assigns again to retry).
// - Online is a lease in the store (devices.online_until, watchdogs.online_until), renewed
//   while the session lives and cleared when it ends, so every node reads the same answer.
//
// Thread safety: every public method may be called from any thread. open/receive/closed do not
// block. assign(), deliver() and offer() block on the store (call them off the I/O threads).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"
#include "fleet/alarm_store.h"
#include "fleet/commands.h"
#include "fleet/device_protocol.h"
#include "fleet/model_signer.h"
#include "store/database.h"

namespace vigil {
class BlockingPool;
namespace telemetry {
class TelemetryService;
}
}  // namespace vigil

namespace vigil::fleet {

// One device session as the hub sees it.
class DeviceLink {
 public:
  virtual ~DeviceLink() = default;
  // Queues a text frame; never blocks. Thread-safe.
  virtual void send(std::string frame) = 0;
  // Closes after the queued frames. Thread-safe, idempotent.
  virtual void close(std::string_view reason) = 0;
};

// The stored model version a name and version (nullopt: the latest) refer to: name as stored,
// version and sha256 (the hub signs it and makes the url). kNotFound when there is none.
using ModelLookup =
    std::function<Expected<ModelOffer>(std::string_view name, std::optional<int64_t> version)>;

struct DeviceHubOptions {
  std::chrono::seconds lease{90};  // online_until = now + lease, renewed every lease / 3
  size_t max_pending = 64;         // a session with more messages waiting is closed
  size_t batch = 512;              // messages per store transaction at most
  // telemetry messages of a session not yet answered (ack or error) at most; more are refused
  size_t max_telemetry_in_flight = 8;
};

// Told after the store has the change, on the hub's worker thread; must not block long.
struct DeviceHubHooks {
  std::function<void(int64_t device_id, std::string_view device)> connected;
  std::function<void(int64_t device_id, std::string_view device)> disconnected;
  std::function<void(const Command&)> command_reported;  // a command's state changed
  std::function<void(const Alarm&)> alarm_reported;
};

class DeviceHub {
 public:
  struct Session;

  DeviceHub(store::Database& db, AlarmStore& alarms, const ModelSigner& signer, ModelLookup lookup,
            MetricsRegistry& metrics, DeviceHubOptions options = {});
  ~DeviceHub();
  DeviceHub(const DeviceHub&) = delete;
  DeviceHub& operator=(const DeviceHub&) = delete;

  // Before start().
  void set_hooks(DeviceHubHooks hooks) { hooks_ = std::move(hooks); }
  // Before start(). Where telemetry messages are stored, and the threads that store them (the
  // pool must be joined before the hub is destroyed). Without: they are answered with an error.
  void set_telemetry(telemetry::TelemetryService* service, BlockingPool* pool) {
    telemetry_ = service;
    telemetry_pool_ = pool;
  }
  void start();
  // Closes every session ("server shutting down"), finishes the queued work and joins.
  void stop();

  // A watchdog (its account's user id) connected; the session waits for its hello.
  std::shared_ptr<Session> open(std::shared_ptr<DeviceLink> link, int64_t user_id);
  void receive(const std::shared_ptr<Session>& session, std::string_view text);
  void closed(const std::shared_ptr<Session>& session);

  // An admin's direct assignment (commands.h assign_model), then the command pushed to the
  // device's sessions on this node. Errors as assign_model's.
  Expected<Assignment> assign(std::string_view device, const ModelRef& model);
  // Sends a stored command to the device's sessions on this node (none: it gets it on hello).
  void deliver(const Command& command);
  // A stored model version, signed, with its artifact url. Versions are cached (they never
  // change); "latest" (nullopt) is looked up every time.
  Expected<ModelOffer> offer(std::string_view name, std::optional<int64_t> version);
  // Closes the sessions of this account (a deleted watchdog).
  void disconnect_user(int64_t user_id, std::string_view reason);

  size_t session_count() const;
  bool online_here(int64_t device_id) const;

 private:
  struct Item;
  struct Batch;
  struct TelemetryJob;

  void enqueue(Item item);
  void enqueue_message(Item item);
  bool admit_telemetry(Session& session, std::string_view ref_json);
  void run();
  void process(std::vector<Item>& items);
  Status apply(store::Session& s, Item& item, Batch& out);
  Status apply_hello(store::Session& s, Item& item, Batch& out);
  Status apply_status(store::Session& s, Item& item, Batch& out);
  Status apply_close(store::Session& s, Item& item, Batch& out);
  void handle_alarm(Item& item);
  void handle_pull(Item& item);
  void handle_telemetry(Item& item);
  void ingest_next(const std::shared_ptr<Session>& session);
  std::string store_telemetry(TelemetryJob& job);
  void answer_telemetry(Session& session, std::string frame);
  void renew_leases();
  void send_command(Session& session, const Command& command);

  store::Database& db_;
  AlarmStore& alarms_;
  const ModelSigner& signer_;
  ModelLookup lookup_;
  DeviceHubOptions options_;
  DeviceHubHooks hooks_;
  telemetry::TelemetryService* telemetry_ = nullptr;
  BlockingPool* telemetry_pool_ = nullptr;

  Gauge& sessions_gauge_;
  Counter& commands_sent_;
  Counter& messages_refused_;
  Counter& telemetry_points_;
  MetricsRegistry& metrics_;

  mutable std::mutex sessions_mu_;
  std::unordered_map<int64_t, std::vector<std::shared_ptr<Session>>> by_device_;
  std::unordered_map<int64_t, std::shared_ptr<Session>> by_user_;

  std::mutex offers_mu_;
  std::unordered_map<std::string, ModelOffer> offers_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace vigil::fleet
