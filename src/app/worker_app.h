// WorkerApp: what `vigil worker` runs — no HTTP, only task workers. It opens the configured store
// (whose schema must be current: a worker never migrates), and builds the same model registry,
// runtimes, model cache and batcher as `vigil serve`, then a WorkerPool of `concurrency` threads
// on the embedded queue (the tasks table). Any number of workers, on any machine that reaches
// the database, share the tasks; a worker that dies leaves its task to be taken over when its
// lease runs out.
#pragma once

#include <memory>

#include "app/app.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/status.h"

namespace vigil {
class BlockingPool;
}
namespace vigil::store {
class Database;
}
namespace vigil::registry {
class ArtifactStore;
class ModelRegistry;
}  // namespace vigil::registry
namespace vigil::runtime {
class RuntimeRegistry;
class ModelCache;
class Batcher;
}  // namespace vigil::runtime
namespace vigil::serving {
class ModelServer;
}
namespace vigil::tasks {
class Ledger;
class TaskService;
class WorkerPool;
}  // namespace vigil::tasks

namespace vigil::app {

class WorkerApp {
 public:
  static Expected<std::unique_ptr<WorkerApp>> create(const Config& config, int concurrency);
  ~WorkerApp();
  void start();
  // Lets each worker finish the task it runs, then stops; idempotent.
  void stop();
  int64_t finished() const;  // tasks this process finished

 private:
  WorkerApp() = default;
  MetricsRegistry metrics_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<BlockingPool> blocking_;
  std::unique_ptr<runtime::RuntimeRegistry> runtimes_;
  std::unique_ptr<registry::ArtifactStore> artifacts_;
  std::unique_ptr<registry::ModelRegistry> models_;
  std::unique_ptr<runtime::ModelCache> model_cache_;
  std::unique_ptr<runtime::Batcher> batcher_;
  std::unique_ptr<serving::ModelServer> server_;
  std::unique_ptr<tasks::Ledger> ledger_;
  std::unique_ptr<tasks::TaskService> tasks_;
  TaskQueue queue_;
  std::unique_ptr<tasks::WorkerPool> workers_;
};

}  // namespace vigil::app
