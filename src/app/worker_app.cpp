#include "app/worker_app.h"

#include <spdlog/spdlog.h>

#include "app/app.h"
#include "core/blocking_pool.h"
#include "registry/artifact_store.h"
#include "registry/model_registry.h"
#include "runtime/batcher.h"
#include "runtime/model_cache.h"
#include "runtime/runtime.h"
#include "serving/model_server.h"
#include "store/database.h"
#include "store/migrations.h"
#include "tasks/ledger.h"
#include "tasks/task_service.h"
#include "tasks/worker.h"

namespace vigil::app {

WorkerApp::~WorkerApp() { stop(); }

Expected<std::unique_ptr<WorkerApp>> WorkerApp::create(const Config& config, int concurrency) {
  if (concurrency < 1 || concurrency > 256) {
    return invalid_field("concurrency", "from 1 to 256");
  }
  std::unique_ptr<WorkerApp> w(new WorkerApp());
  auto db = open_configured_database(config);
  if (!db.ok()) return db.status();
  w->db_ = std::move(*db);
  store::Migrator migrator(*w->db_);
  VIGIL_RETURN_IF_ERROR(migrator.check_not_newer());
  if (Status current = migrator.check_current(); !current.ok()) {
    return failed_precondition(current.message() +
                               " (start `vigil serve` once, or run `vigil migrate up`)");
  }
  w->blocking_ = std::make_unique<BlockingPool>(
      static_cast<size_t>(config.get_int("server.blocking_threads")),
      static_cast<size_t>(config.get_int("server.blocking_queue")), w->metrics_);
  w->runtimes_ = runtime::default_runtimes();
  const std::string artifact_cache = config.get_string("models.artifact_cache");
  if (artifact_cache.empty()) {
    return invalid_argument("models.artifact_cache: must name a directory");
  }
  w->artifacts_ = std::make_unique<registry::ArtifactStore>(*w->db_, artifact_cache);
  w->models_ = std::make_unique<registry::ModelRegistry>(*w->db_, *w->artifacts_);
  w->model_cache_ = std::make_unique<runtime::ModelCache>(
      static_cast<size_t>(config.get_int("models.cache_mb")) << 20, w->metrics_);
  w->batcher_ = std::make_unique<runtime::Batcher>(batcher_options(config), w->metrics_);
  w->server_ = std::make_unique<serving::ModelServer>(*w->models_, *w->runtimes_, *w->model_cache_,
                                                      *w->batcher_, *w->blocking_, w->metrics_);
  w->ledger_ = std::make_unique<tasks::Ledger>(*w->db_);
  w->tasks_ = std::make_unique<tasks::TaskService>(*w->db_, *w->ledger_, task_options(config));
  auto queue = open_task_queue(config, *w->tasks_);
  if (!queue.ok()) return queue.status();
  w->queue_ = std::move(*queue);
  w->workers_ = std::make_unique<tasks::WorkerPool>(
      *w->tasks_, *w->queue_.feed, *w->server_,
      tasks::WorkerOptions{.threads = concurrency,
                           .name = worker_name(),
                           .max_rows = static_cast<size_t>(config.get_int("inference.max_rows")),
                           .renew_every = task_options(config).lease / 3});
  return w;
}

void WorkerApp::start() { workers_->start(); }

void WorkerApp::stop() {
  if (workers_) workers_->stop();
  queue_.stop();
  if (blocking_) blocking_->join();
  if (batcher_) batcher_->stop();
}

int64_t WorkerApp::finished() const { return workers_ ? workers_->finished() : 0; }

}  // namespace vigil::app
