// The composition root: reads the configuration, builds every object once (store, services,
// router, server), and starts and stops them in order. Included by nobody but cli/ and tests.
#pragma once

#include <memory>
#include <string>

#include "auth/password.h"
#include "bus/queue.h"
#include "core/config.h"
#include "core/embedded.h"
#include "core/metrics.h"
#include "core/status.h"
#include "net/router.h"
#include "net/server.h"
#include "records/collector.h"
#include "records/record_parser.h"
#include "registry/model_service.h"
#include "runtime/batcher.h"
#include "store/database.h"
#include "tasks/queue_feed.h"
#include "tasks/task_service.h"
#include "tasks/task_watch.h"

namespace vigil {
class BlockingPool;
}
namespace vigil::events {
class Hub;
}
namespace vigil::fleet {
class AlarmStore;
class DeviceHub;
class RolloutService;
class DeviceStore;
class ModelSigner;
class WatchdogService;
}  // namespace vigil::fleet
namespace vigil::telemetry {
class SensorStore;
class SeriesStore;
class TelemetryService;
class LiveDetection;
class BaselineStore;
class BaselineService;
}  // namespace vigil::telemetry
namespace vigil::records {
class RecordService;
}  // namespace vigil::records
namespace vigil::tasks {
class Ledger;
class StoreFeed;
class WorkerPool;
}  // namespace vigil::tasks
namespace vigil::auth {
class AccountService;
class UserStore;
class TokenService;
class BasicAuthCache;
class LoginLimiter;
}  // namespace vigil::auth
namespace vigil::audit {
class AuditWriter;
}
namespace vigil::registry {
class ArtifactStore;
class ModelRegistry;
}  // namespace vigil::registry
namespace vigil::runtime {
class RuntimeRegistry;
class ModelCache;
}  // namespace vigil::runtime
namespace vigil::serving {
class ModelServer;
}

namespace vigil::app {

struct FirstAdmin {
  bool created = false;
  std::string email;
  std::string generated_password;  // set only when it was generated (print it once)
};

// What the binary brings beyond the configuration.
struct AppOptions {
  // The web console's files, served at `/` (embedded::console() in the vigil executable; tests
  // pass their own). Empty: `/` says the console was not built.
  std::span<const embedded::File> console;
};

// The task queue queue.url names: the tasks table ("embedded": StoreFeed) or RabbitMQ (a
// QueueFeed on an AmqpQueue; `dispatch`: this process publishes what is submitted here and
// sweeps for tasks never published — serve; workers only consume). Members in destruction
// order: the feed before the broker it uses.
struct TaskQueue {
  std::unique_ptr<bus::Queue> broker;  // none when embedded
  std::unique_ptr<tasks::TaskFeed> feed;
  tasks::QueueFeed* queue_feed = nullptr;  // feed, when it is on a broker
  void start() const;                      // the dispatcher, when there is one
  void stop() const;  // after the workers stopped: publishes what is pending, closes consumers
};
Expected<TaskQueue> open_task_queue(const Config& config, tasks::TaskService& tasks);

class App {
 public:
  // Opens the store and checks its schema (migrating when database.migrate_on_start), creates
  // the first admin when there is none, and builds the router. Nothing listens yet.
  static Expected<std::unique_ptr<App>> create(const Config& config, AppOptions options = {});
  ~App();

  // Routes may still be added (tests) until start().
  net::Router& router() { return *router_; }
  store::Database& database() { return *db_; }
  MetricsRegistry& metrics() { return metrics_; }
  const FirstAdmin& first_admin() const { return first_admin_; }
  auth::UserStore& users() { return *users_; }
  auth::AccountService& accounts() { return *accounts_; }
  auth::TokenService& tokens() { return *tokens_; }
  registry::ModelRegistry& models() { return *models_; }
  // The node's events (GET /api/v1/ws/events); services publish here.
  events::Hub& events() { return *events_; }
  // Writes every audit record submitted so far (tests).
  void flush_audit();

  Status start();
  uint16_t port() const;
  // Graceful; idempotent.
  void stop();

 private:
  explicit App(const Config& config);
  // The model registry, runtimes, serving and their routes.
  Status add_models(const Config& config);
  // The fleet: devices (issue 14, in progress) and their routes.
  Status add_fleet(const Config& config);
  Status add_tasks(const Config& config, size_t max_rows);
  Status add_telemetry(const Config& config);
  Status add_records(const Config& config);

  Config config_;
  MetricsRegistry metrics_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<BlockingPool> blocking_;
  std::unique_ptr<auth::UserStore> users_;
  std::unique_ptr<auth::TokenService> tokens_;
  std::unique_ptr<auth::BasicAuthCache> basic_;
  std::unique_ptr<auth::LoginLimiter> limiter_;
  std::unique_ptr<auth::AccountService> accounts_;
  std::unique_ptr<audit::AuditWriter> audit_;
  std::unique_ptr<runtime::RuntimeRegistry> runtimes_;
  std::unique_ptr<registry::ArtifactStore> artifacts_;
  std::unique_ptr<registry::ModelRegistry> models_;
  std::unique_ptr<registry::ModelService> model_service_;
  std::unique_ptr<runtime::ModelCache> model_cache_;
  std::unique_ptr<runtime::Batcher> batcher_;
  std::unique_ptr<serving::ModelServer> model_server_;
  std::unique_ptr<fleet::ModelSigner> signer_;
  std::unique_ptr<fleet::DeviceStore> devices_;
  std::unique_ptr<fleet::WatchdogService> watchdogs_;
  std::unique_ptr<events::Hub> events_;  // outlives its publishers, the router and the sessions
  std::unique_ptr<fleet::AlarmStore> alarms_;
  std::unique_ptr<tasks::Ledger> ledger_;
  std::unique_ptr<tasks::TaskService> tasks_;
  TaskQueue task_queue_;
  std::unique_ptr<tasks::TaskWatch> task_watch_;
  std::unique_ptr<tasks::WorkerPool> workers_;
  std::unique_ptr<fleet::DeviceHub> hub_;
  std::unique_ptr<fleet::RolloutService> rollouts_;
  std::unique_ptr<telemetry::SensorStore> sensors_;
  std::unique_ptr<telemetry::SeriesStore> series_;
  std::unique_ptr<telemetry::TelemetryService> telemetry_;
  std::unique_ptr<telemetry::BaselineStore> baseline_store_;
  std::unique_ptr<telemetry::BaselineService> baselines_;
  std::unique_ptr<records::RecordService> records_;
  std::unique_ptr<records::Collector> collector_;   // after records_: stopped and gone first
  std::unique_ptr<telemetry::LiveDetection> live_;  // after telemetry_: stopped and gone first
  std::unique_ptr<net::Router> router_;
  std::vector<std::unique_ptr<net::Middleware>> middleware_;
  std::unique_ptr<net::Server> server_;
  FirstAdmin first_admin_;
};

// Opens the database named by the configuration (for CLI commands that need only the store).
Expected<std::unique_ptr<store::Database>> open_configured_database(const Config& config);

// Creates the first admin (admin_email, admin_password or a generated one) unless an active
// admin exists. Safe to run concurrently.
Expected<FirstAdmin> ensure_first_admin(auth::AccountService& accounts, const Config& config);

// What the model registry checks an upload against: the runtimes' kinds, and a load of the
// file by its runtime in a child process (models.check_exe, models.check_timeout_ms).
registry::ModelChecks model_checks(const Config& config, const runtime::RuntimeRegistry& runtimes);

// How record files are parsed in a child (collector.parse_*; the binary of models.check_exe).
records::ParserOptions record_parser_options(const Config& config);
// The drop folder's collector as configured (collector.*), for `vigil serve` and `vigil collect`.
records::CollectorOptions collector_options(const Config& config);

// Who this process is in task leases: "<host>:<pid>".
std::string worker_name();

// What `vigil serve` and `vigil worker` read alike from the configuration: dynamic batching
// (inference.*; no local rounds: the caller sets inline_max and defer when it has I/O threads)
// and the task service (tasks.lease_s, tasks.max_attempts).
runtime::BatcherOptions batcher_options(const Config& config);
tasks::TaskService::Options task_options(const Config& config);

// Argon2id parameters from the configuration.
auth::PasswordParams password_params(const Config& config);

}  // namespace vigil::app
