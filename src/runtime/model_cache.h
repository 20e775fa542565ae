// ModelCache: the loaded models a server keeps in memory, by key (e.g. "<model_id>/<version>"),
// least recently used first out when their memory_bytes() pass a byte budget.
//
// Thread-safe. Loads are single-flight: concurrent get_or_load() calls for one key run the
// loader once and all get its result; a failed load is not cached (every caller waiting for it
// gets the error, the next call tries again). Eviction only drops the cache's reference: a
// model still used by a request stays alive through that request's shared_ptr.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/metrics.h"
#include "core/status.h"
#include "runtime/runtime.h"

namespace vigil::runtime {

class ModelCache {
 public:
  using ModelPtr = std::shared_ptr<const LoadedModel>;
  using Loader = std::function<Expected<std::unique_ptr<LoadedModel>>()>;

  explicit ModelCache(size_t budget_bytes);
  // With metrics vigil_model_cache_{hits,misses,load_failures,evictions}_total and gauges
  // vigil_model_cache_{bytes,entries}.
  ModelCache(size_t budget_bytes, MetricsRegistry& metrics);
  ModelCache(const ModelCache&) = delete;
  ModelCache& operator=(const ModelCache&) = delete;

  // The cached model or nullptr; never waits for a load. A hit marks the entry recently used.
  ModelPtr peek(const std::string& key);

  // The cached model, else the result of loader() (run on the calling thread, without the
  // cache's lock; callers for the same key meanwhile wait for it). After a successful load,
  // least recently used entries are evicted until the total fits the budget — never the one just
  // loaded, so a model larger than the whole budget is still served (alone). A loader that
  // returns nullptr or throws counts as a failed load (kInternal).
  Expected<ModelPtr> get_or_load(const std::string& key, Loader loader);

  // Drops the entry (e.g. the version was deleted). A load of that key in flight still answers
  // its waiters but is not cached.
  void erase(const std::string& key);

  size_t bytes() const;  // sum of memory_bytes() of the cached entries
  size_t size() const;   // number of cached entries
  size_t budget_bytes() const { return budget_; }

 private:
  struct Entry {
    std::string key;
    ModelPtr model;
    size_t bytes;
  };
  struct Flight {
    bool done = false;
    bool erased = false;  // erase() was called while loading: do not cache the result
    Expected<ModelPtr> result{ModelPtr{}};
  };
  struct Metrics {
    Counter* hits = nullptr;
    Counter* misses = nullptr;
    Counter* load_failures = nullptr;
    Counter* evictions = nullptr;
    Gauge* bytes = nullptr;
    Gauge* entries = nullptr;
  };

  void insert_locked(const std::string& key, ModelPtr model);
  void update_gauges_locked();

  const size_t budget_;
  Metrics metrics_;
  mutable std::mutex mu_;
  std::condition_variable loaded_;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
  size_t bytes_ = 0;
};

}  // namespace vigil::runtime
