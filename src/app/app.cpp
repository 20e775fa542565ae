#include "app/app.h"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <filesystem>

#include <unistd.h>
#include "api/alarms.h"
#include "api/artifacts.h"
#include "api/audit.h"
#include "api/audit_middleware.h"
#include "api/auth.h"
#include "api/auth_middleware.h"
#include "api/baselines.h"
#include "api/console.h"
#include "api/records.h"
#include "api/sensor_events.h"
#include "bus/amqp_queue.h"
#include "core/json_text.h"

#include <cstdio>

#include "api/credits.h"
#include "api/cross_site.h"
#include "api/device_ws.h"
#include "api/devices.h"
#include "api/events_ws.h"
#include "api/models.h"
#include "api/ops.h"
#include "api/predict.h"
#include "api/rollouts.h"
#include "api/tasks.h"
#include "api/telemetry.h"
#include "api/users.h"
#include "api/v2_inference.h"
#include "audit/audit_log.h"
#include "auth/account_service.h"
#include "auth/login_limiter.h"
#include "auth/permissions.h"
#include "auth/token_service.h"
#include "auth/user_store.h"
#include "core/strings.h"
#include "events/hub.h"
#include "fleet/alarm_store.h"
#include "fleet/device_hub.h"
#include "fleet/fleet_events.h"
#include "fleet/model_signer.h"
#include "fleet/rollout_service.h"
#include "net/request_metrics.h"
#include "records/record_service.h"
#include "registry/artifact_store.h"
#include "registry/model_registry.h"
#include "registry/model_service.h"
#include "runtime/batcher.h"
#include "runtime/isolated_check.h"
#include "runtime/model_cache.h"
#include "runtime/runtime.h"
#include "serving/model_server.h"
#include "store/migrations.h"
#include "tasks/ledger.h"
#include "tasks/task_service.h"
#include "tasks/worker.h"
#include "telemetry/baseline_service.h"
#include "telemetry/live_detection.h"
#include "telemetry/series_store.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.0.0"
#endif

namespace vigil::app {
namespace json = boost::json;

// The binary that checks models and parses records in child processes.
std::string child_exe(const Config& config) {
  std::string exe = config.get_string("models.check_exe");
  if (exe.empty()) {
    std::error_code ec;
    exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  }
  return exe;
}

registry::ModelChecks model_checks(const Config& config, const runtime::RuntimeRegistry& runtimes) {
  const std::string exe = child_exe(config);
  auto timeout = std::chrono::milliseconds(config.get_int("models.check_timeout_ms"));
  registry::ModelChecks checks{.kinds = runtimes.kinds()};
  checks.loadable = [exe, timeout](std::string_view kind, std::string_view bytes,
                                   std::string_view metadata) -> Status {
    // Every kind is checked in a child: the parsers of third-party runtimes (libxgboost) are
    // not hardened against hostile files, and a crash there must not take the server down.
    auto summary = runtime::check_model_isolated(exe, kind, bytes, metadata, timeout);
    return summary.ok() ? Status{} : summary.status();
  };
  return checks;
}

records::ParserOptions record_parser_options(const Config& config) {
  return {.exe = child_exe(config),
          .timeout = std::chrono::seconds(config.get_int("collector.parse_timeout_s")),
          .max_memory_bytes = static_cast<size_t>(config.get_int("collector.parse_memory_mb"))
                              << 20};
}

records::CollectorOptions collector_options(const Config& config) {
  return {.dropzone = config.get_string("collector.dropzone"),
          .archive = config.get_string("collector.archive"),
          .quarantine = config.get_string("collector.quarantine"),
          .archive_processed = config.get_bool("collector.keep_processed"),
          .rescan_every = std::chrono::seconds(config.get_int("collector.rescan_s")),
          .settle = std::chrono::milliseconds(config.get_int("collector.settle_ms")),
          .workers = static_cast<int>(config.get_int("collector.workers"))};
}

Expected<std::unique_ptr<store::Database>> open_configured_database(const Config& config) {
  store::DatabaseOptions options;
  options.url = config.get_string("database.url");
  options.pool_size = static_cast<int>(config.get_int("database.pool_size"));
  return store::open_database(options);
}

namespace {

// The ring's sizes; seqs start from the wall clock in microseconds, so a later run's are above
// an earlier run's and a client's since from before a restart gets a gap.
events::HubOptions events_options(const Config& config) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return {.keep_events = static_cast<size_t>(config.get_int("events.keep_events")),
          .keep_for = std::chrono::seconds(config.get_int("events.keep_s")),
          .max_events = static_cast<size_t>(config.get_int("events.max_events")),
          .first_seq = static_cast<uint64_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(now).count())};
}

}  // namespace

runtime::BatcherOptions batcher_options(const Config& config) {
  runtime::BatcherOptions bo;
  bo.max_batch_rows = static_cast<size_t>(config.get_int("inference.max_batch_rows"));
  bo.max_wait = std::chrono::microseconds(config.get_int("inference.max_wait_us"));
  bo.threads = static_cast<int>(config.get_int("inference.threads"));
  bo.inline_max = std::chrono::microseconds(0);
  return bo;
}

tasks::TaskService::Options task_options(const Config& config) {
  return {.lease = std::chrono::seconds(config.get_int("tasks.lease_s")),
          .max_attempts = static_cast<int>(config.get_int("tasks.max_attempts")),
          .queue_publishes = config.get_string("queue.url") != "embedded"};
}

Expected<TaskQueue> open_task_queue(const Config& config, tasks::TaskService& tasks) {
  TaskQueue q;
  const std::string url = config.get_string("queue.url");
  if (url == "embedded") {
    q.feed = std::make_unique<tasks::StoreFeed>(
        tasks, std::chrono::milliseconds(config.get_int("tasks.poll_ms")));
    return q;
  }
  auto broker =
      bus::open_amqp_queue({.url = url,
                            .name = config.get_string("queue.name"),
                            .prefetch = static_cast<int>(config.get_int("queue.prefetch")),
                            .heartbeat_s = static_cast<int>(config.get_int("queue.heartbeat_s"))});
  if (!broker.ok()) return broker.status();
  q.broker = std::move(*broker);
  auto feed = std::make_unique<tasks::QueueFeed>(
      tasks, *q.broker,
      tasks::QueueFeed::Options{
          .sweep_every = std::chrono::seconds(config.get_int("queue.sweep_s")) / 2,
          .sweep_after = std::chrono::seconds(config.get_int("queue.sweep_s"))});
  q.queue_feed = feed.get();
  q.feed = std::move(feed);
  return q;
}

void TaskQueue::start() const {
  if (queue_feed) queue_feed->start();
}

void TaskQueue::stop() const {
  if (!queue_feed) return;
  queue_feed->stop();
  queue_feed->close_consumers();
}

std::string worker_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "host");
  return std::string(host) + ":" + std::to_string(getpid());
}

App::App(const Config& config) : config_(config), router_(std::make_unique<net::Router>()) {}

App::~App() { stop(); }

Expected<std::unique_ptr<App>> App::create(const Config& config, AppOptions options) {
  std::unique_ptr<App> app(new App(config));
  auto db = open_configured_database(config);
  if (!db.ok()) return db.status();
  app->db_ = std::move(*db);

  store::Migrator migrator(*app->db_);
  VIGIL_RETURN_IF_ERROR(migrator.check_not_newer());
  if (config.get_bool("database.migrate_on_start")) {
    auto ran = migrator.up();
    if (!ran.ok()) return ran.status();
    if (*ran > 0) spdlog::info("applied {} migration(s)", *ran);
  }
  if (Status current = migrator.check_current(); !current.ok()) {
    return failed_precondition(current.message() + " (run `vigil migrate up`)");
  }
  app->blocking_ = std::make_unique<BlockingPool>(
      static_cast<size_t>(config.get_int("server.blocking_threads")),
      static_cast<size_t>(config.get_int("server.blocking_queue")), app->metrics_);
  app->users_ = std::make_unique<auth::UserStore>(*app->db_, password_params(config));
  app->tokens_ = std::make_unique<auth::TokenService>(
      *app->db_, std::chrono::seconds(config.get_int("auth.token_ttl_s")),
      std::chrono::milliseconds(config.get_int("auth.token_cache_ms")));
  app->basic_ = std::make_unique<auth::BasicAuthCache>(
      std::chrono::seconds(config.get_int("auth.basic_cache_s")));
  app->limiter_ = std::make_unique<auth::LoginLimiter>(
      static_cast<int>(config.get_int("auth.login_max_failures_per_account")),
      static_cast<int>(config.get_int("auth.login_max_failures_per_ip")),
      std::chrono::seconds(config.get_int("auth.login_window_s")));
  app->accounts_ = std::make_unique<auth::AccountService>(
      *app->db_, *app->users_, *app->tokens_, *app->basic_, *app->limiter_,
      auth::AccountOptions{.open_registration = config.get_bool("auth.open_registration")});
  if (config.get_bool("audit.enabled")) {
    audit::AuditOptions ao;
    ao.queue_capacity = static_cast<size_t>(config.get_int("audit.queue_capacity"));
    ao.batch_size = static_cast<size_t>(config.get_int("audit.batch_size"));
    ao.flush_interval = std::chrono::milliseconds(config.get_int("audit.flush_ms"));
    ao.access_log_file = config.get_string("audit.access_log");
    app->audit_ = std::make_unique<audit::AuditWriter>(*app->db_, ao, app->metrics_);
  }

  auto admin = ensure_first_admin(*app->accounts_, config);
  if (!admin.ok()) return admin.status();
  app->first_admin_ = *admin;

  store::Database* db_ptr = app->db_.get();
  api::OpsDeps ops;
  ops.metrics = &app->metrics_;
  ops.blocking = app->blocking_.get();
  ops.version = VIGIL_VERSION;
  ops.readiness.push_back({"database", [db_ptr] { return db_ptr->ping(); }});
  ops.readiness.push_back({"migrations", [db_ptr] {
                             store::Migrator m(*db_ptr);
                             return m.check_current();
                           }});
  if (config.get_string("queue.url") != "embedded") {
    // The broker is made with the tasks (add_models); the check runs only once serving.
    ops.readiness.push_back({"queue", [a = app.get()] {
                               bus::Queue* broker = a->task_queue_.broker.get();
                               if (broker == nullptr || broker->ready()) return Status();
                               return unavailable("cannot reach the task queue (" +
                                                  broker->describe() + ")");
                             }});
  }
  api::add_ops_routes(*app->router_, std::move(ops));
  api::add_docs_routes(*app->router_, VIGIL_VERSION);
  api::add_console_routes(*app->router_, {.files = options.console});
  api::add_auth_routes(*app->router_,
                       {.accounts = app->accounts_.get(),
                        .tokens = app->tokens_.get(),
                        .blocking = app->blocking_.get(),
                        .secure_cookie = !config.get_string("server.tls_cert").empty()});
  api::add_user_routes(*app->router_,
                       {.accounts = app->accounts_.get(), .blocking = app->blocking_.get()});
  api::add_audit_routes(*app->router_, {.db = app->db_.get(), .blocking = app->blocking_.get()});
  app->events_ = std::make_unique<events::Hub>(events_options(config), &app->metrics_);
  api::add_events_routes(
      *app->router_,
      {.hub = app->events_.get(),
       .sensor_recent = [a = app.get()](std::string_view sensor) -> Expected<boost::json::object> {
         if (!a->telemetry_) return not_found("no sensor named " + std::string(sensor));
         return api::sensor_recent(*a->telemetry_, sensor);
       },
       .blocking = app->blocking_.get()});
  VIGIL_RETURN_IF_ERROR(app->add_models(config));
  return app;
}

Status App::add_models(const Config& config) {
  runtimes_ = runtime::default_runtimes();
  std::string artifact_cache = config.get_string("models.artifact_cache");
  if (artifact_cache.empty()) {
    return invalid_argument("models.artifact_cache: must name a directory");
  }
  artifacts_ = std::make_unique<registry::ArtifactStore>(*db_, artifact_cache);
  models_ = std::make_unique<registry::ModelRegistry>(*db_, *artifacts_);
  VIGIL_RETURN_IF_ERROR(models_->ensure_blank_model());
  model_cache_ = std::make_unique<runtime::ModelCache>(
      static_cast<size_t>(config.get_int("models.cache_mb")) << 20, metrics_);
  runtime::BatcherOptions bo = batcher_options(config);
  bo.inline_max = std::chrono::microseconds(config.get_int("inference.inline_max_us"));
  bo.defer = &net::defer_on_io_thread;
  batcher_ = std::make_unique<runtime::Batcher>(bo, metrics_);
  model_server_ = std::make_unique<serving::ModelServer>(*models_, *runtimes_, *model_cache_,
                                                         *batcher_, *blocking_, metrics_);

  serving::ModelServer* server = model_server_.get();
  model_service_ = std::make_unique<registry::ModelService>(
      *models_, model_checks(config, *runtimes_), [server](const registry::ModelVersion& v) {
        server->forget(v.model, v.model_id > 0 ? v.version : 0, v.model_id);
      });
  api::add_model_routes(*router_,
                        {.models = model_service_.get(),
                         .blocking = blocking_.get(),
                         .max_upload_bytes = config.get_int("models.max_upload_mb") << 20});
  api::add_artifact_routes(*router_, {.registry = models_.get(), .blocking = blocking_.get()});

  store::Database* db = db_.get();
  size_t max_rows = static_cast<size_t>(config.get_int("inference.max_rows"));
  ledger_ = std::make_unique<tasks::Ledger>(*db_);
  const api::CreditDeps credit_deps{.ledger = ledger_.get(), .blocking = blocking_.get()};
  api::add_v2_inference_routes(*router_, {.server = model_server_.get(),
                                          .registry = models_.get(),
                                          .blocking = blocking_.get(),
                                          .credits = credit_deps,
                                          .max_rows = max_rows,
                                          .ready = [db] { return db->ping().ok(); }});
  api::add_predict_routes(
      *router_, {.server = model_server_.get(), .credits = credit_deps, .max_rows = max_rows});
  api::add_credit_routes(*router_, credit_deps);
  VIGIL_RETURN_IF_ERROR(add_tasks(config, max_rows));
  VIGIL_RETURN_IF_ERROR(add_fleet(config));
  VIGIL_RETURN_IF_ERROR(add_telemetry(config));
  return add_records(config);
}

namespace {

// fleet.signing_key (a configured seed, for clusters) or the key file, made on first start.
Expected<fleet::ModelSigner> open_signer(const Config& config) {
  std::string seed = config.get_string("fleet.signing_key");
  if (!seed.empty()) return fleet::ModelSigner::from_seed_base64(seed);
  return fleet::ModelSigner::open(config.get_string("fleet.signing_key_file"));
}

}  // namespace

Status App::add_fleet(const Config& config) {
  auto signer = open_signer(config);
  if (!signer.ok()) return signer.status();
  signer_ = std::make_unique<fleet::ModelSigner>(std::move(*signer));
  if (signer_->created()) {
    spdlog::info("made the model signing key; its public key: {}", signer_->public_key_base64());
  }
  devices_ = std::make_unique<fleet::DeviceStore>(*db_);
  watchdogs_ = std::make_unique<fleet::WatchdogService>(*db_, *tokens_);
  alarms_ = std::make_unique<fleet::AlarmStore>(*db_);
  models_->add_in_use_check(
      [devices = devices_.get()](int64_t, std::string_view name,
                                 int64_t version) -> Expected<std::optional<std::string>> {
        auto device = devices->device_on(name, version);
        if (!device.ok() || !*device) return device;
        return std::optional<std::string>("device " + **device + " is assigned or runs version " +
                                          std::to_string(version));
      });
  fleet::ModelLookup lookup = [models = models_.get()](
                                  std::string_view name,
                                  std::optional<int64_t> version) -> Expected<fleet::ModelOffer> {
    auto v = models->resolve(name, version ? std::to_string(*version) : "latest");
    if (!v.ok()) return v.status();
    // Stored metadata is a JSON object (the registry checks it at upload); anything else is
    // offered as an empty object rather than as text an agent would have to guess about.
    boost::system::error_code ec;
    boost::json::value metadata = parse_json(v->metadata, ec);
    return fleet::ModelOffer{.name = v->model,
                             .version = v->version,
                             .sha256 = v->sha256,
                             .kind = v->kind,
                             .metadata = !ec && metadata.is_object()
                                             ? std::move(metadata.as_object())
                                             : boost::json::object{}};
  };
  hub_ = std::make_unique<fleet::DeviceHub>(
      *db_, *alarms_, *signer_, std::move(lookup), metrics_,
      fleet::DeviceHubOptions{.lease =
                                  std::chrono::seconds(config.get_int("fleet.online_lease_s"))});
  rollouts_ = std::make_unique<fleet::RolloutService>(*db_, *hub_, metrics_);
  fleet::connect_fleet(*hub_, *rollouts_, events_.get());
  api::add_device_routes(*router_,
                         {.devices = devices_.get(),
                          .watchdogs = watchdogs_.get(),
                          .signing_key = signer_->public_key_base64(),
                          .models = models_.get(),
                          .blocking = blocking_.get(),
                          .hub = hub_.get(),
                          .model_service = model_service_.get(),
                          .max_upload_bytes = config.get_int("models.max_upload_mb") << 20});
  api::add_device_ws_route(*router_, *hub_);
  api::add_rollout_routes(*router_, {.rollouts = rollouts_.get(), .blocking = blocking_.get()});
  api::add_alarm_routes(*router_, {.alarms = alarms_.get(),
                                   .watchdogs = watchdogs_.get(),
                                   .blocking = blocking_.get(),
                                   .changed = [r = rollouts_.get(), e = events_.get()](
                                                  const fleet::Alarm& a, std::string_view kind) {
                                     fleet::alarm_changed(a, kind, *r, e);
                                   }});
  return {};
}

// Asynchronous predictions: the task service on the store, the embedded queue (the tasks table)
// and this process's workers; task events go to their owner (and admins).
Status App::add_tasks(const Config& config, size_t max_rows) {
  tasks_ = std::make_unique<tasks::TaskService>(*db_, *ledger_, task_options(config));
  auto queue = open_task_queue(config, *tasks_);
  if (!queue.ok()) return queue.status();
  task_queue_ = std::move(*queue);
  auto publish = [e = events_.get()](const tasks::Task& t) {
    if (!e) return;
    json::object ev = api::task_json(t);
    ev["kind"] = "task";
    e->publish("tasks", std::move(ev), t.user_id);
  };
  // Tasks that other processes (`vigil worker`, other nodes) finished: their events, and the
  // requests waiting for them.
  task_watch_ = std::make_unique<tasks::TaskWatch>(
      *tasks_,
      tasks::TaskWatch::Options{.poll = std::chrono::milliseconds(config.get_int("tasks.poll_ms"))},
      publish);
  auto changed = [publish, feed = task_queue_.feed.get(),
                  watch = task_watch_.get()](const tasks::Task& t) {
    publish(t);  // first: a "queued" event before the worker's
    if (t.status == tasks::TaskStatus::kQueued) {
      watch->submitted_here(t);
      feed->submitted(t);
    }
    if (tasks::is_finished(t.status)) watch->ended_here(t);
  };

  workers_ = std::make_unique<tasks::WorkerPool>(
      *tasks_, *task_queue_.feed, *model_server_,
      tasks::WorkerOptions{.threads = static_cast<int>(config.get_int("tasks.workers")),
                           .name = worker_name(),
                           .max_rows = max_rows,
                           .renew_every = task_options(config).lease / 3},
      changed);
  api::add_task_routes(*router_, {.tasks = tasks_.get(),
                                  .server = model_server_.get(),
                                  .blocking = blocking_.get(),
                                  .max_rows = max_rows,
                                  .changed = changed,
                                  .watch = task_watch_.get()});
  return {};
}

// Sensors and their series (chunks in the store, compacted on a thread of their own).
Status App::add_telemetry(const Config& config) {
  sensors_ = std::make_unique<telemetry::SensorStore>(*db_);
  series_ = std::make_unique<telemetry::SeriesStore>(
      *db_, telemetry::SeriesStore::Options{
                .chunk_points = static_cast<size_t>(config.get_int("telemetry.chunk_points"))});
  telemetry_ = std::make_unique<telemetry::TelemetryService>(*sensors_, *series_);
  if (hub_) hub_->set_telemetry(telemetry_.get(), blocking_.get());  // devices stream points too
  baseline_store_ = std::make_unique<telemetry::BaselineStore>(*db_);
  telemetry_->use_baselines(baseline_store_.get());
  telemetry::BaselineOptions baseline_options;
  for (auto [key, every] : {std::pair{"detect.select_every", &baseline_options.select_every},
                            std::pair{"detect.augment_every", &baseline_options.augment_every}}) {
    const std::string text = config.get_string(key);
    if (text == "0") continue;
    auto ms = parse_duration_ms(text);
    if (!ms) {
      return invalid_field(key,
                           "must be a duration (500ms, 30s, 10m, 1h, 1d) or 0, not '" + text + "'");
    }
    *every = std::chrono::milliseconds(*ms);
  }
  baselines_ =
      std::make_unique<telemetry::BaselineService>(*telemetry_, *baseline_store_, baseline_options);
  baselines_->noted = [e = events_.get()](const telemetry::Sensor& s,
                                          const telemetry::SensorBaseline& b) {
    if (!e) return;
    boost::json::object event{
        {"kind", "baseline"},
        {"sensor", s.name},
        {"action", b.action},
        {"baseline",
         b.baseline.empty() ? boost::json::value(nullptr) : boost::json::value(b.baseline)},
        {"by", b.by_user > 0 ? boost::json::value(b.by_user) : boost::json::value(nullptr)},
        {"points", b.points}};
    e->publish("sensor:" + s.name, event);
    e->publish("system", std::move(event));
  };
  if (config.get_bool("detect.seed_baselines")) {
    auto seeded = baselines_->seed();
    if (!seeded.ok()) return seeded.status();
    if (*seeded > 0) spdlog::info("added {} seed baselines to the library", *seeded);
  }
  live_ = std::make_unique<telemetry::LiveDetection>(
      *telemetry_,
      telemetry::LiveOptions{
          .threads = static_cast<int>(config.get_int("detect.threads")),
          .max_queued_points = static_cast<size_t>(config.get_int("detect.queue_points")),
          .max_sensors = static_cast<size_t>(config.get_int("detect.max_sensors"))},
      api::sensor_event_hooks({.hub = events_.get(),
                               .alarms = alarms_.get(),
                               .alarm_changed =
                                   [r = rollouts_.get(), e = events_.get()](const fleet::Alarm& a,
                                                                            std::string_view kind) {
                                     if (r) {
                                       fleet::alarm_changed(a, kind, *r, e);
                                     } else if (e) {
                                       e->publish("alarms", fleet::alarm_event(a, kind));
                                     }
                                   }}),
      &metrics_);
  telemetry_->stored = [live = live_.get()](const telemetry::Sensor& s,
                                            std::vector<telemetry::Point>&& points) {
    live->offer(s, std::move(points));
  };
  telemetry_->changed = [live = live_.get()](int64_t id) { live->reset(id); };
  api::add_telemetry_routes(
      *router_,
      {.telemetry = telemetry_.get(), .watchdogs = watchdogs_.get(), .blocking = blocking_.get()});
  api::add_baseline_routes(*router_, {.baselines = baselines_.get(), .blocking = blocking_.get()});
  return {};
}

// Sleep records: uploads, the API, and the collector on the drop folder (decision 0020).
Status App::add_records(const Config& config) {
  records_ = std::make_unique<records::RecordService>(*db_, record_parser_options(config),
                                                      records::RecordMetrics::in(metrics_));
  records_->on_stored = [e = events_.get()](const records::Record& r) {
    if (!e) return;
    e->publish("system", {{"kind", "record_stored"},
                          {"id", r.id},
                          {"user", r.username},
                          {"device", r.device},
                          {"source", r.source}});
  };
  const std::filesystem::path uploads =
      std::filesystem::path(config.get_string("data_dir")) / "tmp" / "uploads";
  std::error_code ec;
  std::filesystem::create_directories(uploads, ec);
  if (ec) return unavailable("cannot make " + uploads.string() + ": " + ec.message());
  api::add_record_routes(*router_,
                         {.records = records_.get(),
                          .watchdogs = watchdogs_.get(),
                          .blocking = blocking_.get(),
                          .upload_dir = uploads.string(),
                          .max_upload_bytes = config.get_int("collector.max_upload_mb") << 20});
  if (config.get_bool("collector.enabled")) {
    collector_ = std::make_unique<records::Collector>(
        collector_options(config),
        [r = records_.get()](const std::filesystem::path& claimed, const std::string& name) {
          return r->collect(claimed, name);
        });
  }
  return {};
}

Status App::start() {
  // Every route must declare an action the permission table knows: none can skip its check.
  for (const auto& r : router_->routes()) {
    if (!auth::find_action(r->spec.action)) {
      return internal_error("route " + std::string(net::http::to_string(r->method)) + " " +
                            r->pattern + " declares no known action ('" + r->spec.action + "')");
    }
  }
  // Request metrics are built from the final route table.
  middleware_.push_back(std::make_unique<net::RequestMetrics>(*router_, metrics_));
  if (audit_) {
    VIGIL_RETURN_IF_ERROR(audit_->start());
    middleware_.push_back(std::make_unique<api::AuditMiddleware>(*audit_));
  }
  middleware_.push_back(std::make_unique<api::CrossSiteMiddleware>());
  middleware_.push_back(
      std::make_unique<api::AuthMiddleware>(*accounts_, *tokens_, *basic_, *blocking_));
  std::vector<net::Middleware*> chain;
  for (auto& m : middleware_) chain.push_back(m.get());

  net::ServerOptions o;
  o.host = config_.get_string("server.host");
  o.port = static_cast<uint16_t>(config_.get_int("server.port"));
  o.io_threads = static_cast<int>(config_.get_int("server.io_threads"));
  o.max_header_bytes = static_cast<size_t>(config_.get_int("server.max_header_bytes"));
  o.max_body_bytes = static_cast<size_t>(config_.get_int("server.max_body_bytes"));
  o.max_body_bytes_in_flight =
      static_cast<size_t>(config_.get_int("server.max_body_bytes_in_flight"));
  o.max_body_bytes_per_client =
      static_cast<size_t>(config_.get_int("server.max_body_bytes_per_client"));
  o.header_timeout = std::chrono::milliseconds(config_.get_int("server.header_timeout_ms"));
  o.body_timeout = std::chrono::milliseconds(config_.get_int("server.body_timeout_ms"));
  o.idle_timeout = std::chrono::milliseconds(config_.get_int("server.idle_timeout_ms"));
  o.ws_idle_timeout = std::chrono::milliseconds(config_.get_int("server.ws_idle_timeout_ms"));
  o.shutdown_grace = std::chrono::milliseconds(config_.get_int("server.shutdown_grace_ms"));
  o.max_connections = static_cast<size_t>(config_.get_int("server.max_connections"));
  o.tls_cert_file = config_.get_string("server.tls_cert");
  o.tls_key_file = config_.get_string("server.tls_key");
  server_ = std::make_unique<net::Server>(o, *router_, chain, metrics_);
  if (hub_) hub_->start();
  if (rollouts_) rollouts_->start();
  task_queue_.start();
  if (task_watch_) task_watch_->start();
  if (workers_) workers_->start();
  if (series_) series_->start();
  if (live_) live_->start();
  if (baselines_) baselines_->start();
  if (collector_) VIGIL_RETURN_IF_ERROR(collector_->start());
  VIGIL_RETURN_IF_ERROR(server_->start());
  events_->publish("system", {{"kind", "server_started"}, {"version", VIGIL_VERSION}});
  return {};
}

uint16_t App::port() const { return server_ ? server_->port() : 0; }

void App::stop() {
  // Requests waiting for a task answer now, so the server's graceful stop does not wait for them.
  if (task_watch_) task_watch_->stop();
  if (server_) server_->stop();
  if (workers_) workers_->stop();
  task_queue_.stop();
  if (rollouts_) rollouts_->stop();
  if (hub_) hub_->stop();
  if (baselines_) baselines_->stop();
  if (collector_) collector_->stop();
  if (blocking_) blocking_->join();
  if (live_) live_->stop();
  if (series_) series_->stop();
  if (batcher_) batcher_->stop();
  if (audit_) audit_->stop();
}

void App::flush_audit() {
  if (audit_) audit_->flush();
}

}  // namespace vigil::app
