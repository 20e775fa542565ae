#include "runtime/model_cache.h"

#include <exception>
#include <utility>

namespace vigil::runtime {

ModelCache::ModelCache(size_t budget_bytes) : budget_(budget_bytes) {}

ModelCache::ModelCache(size_t budget_bytes, MetricsRegistry& metrics) : budget_(budget_bytes) {
  metrics_.hits =
      &metrics.counter("vigil_model_cache_hits_total", "Model lookups answered from the cache");
  metrics_.misses = &metrics.counter("vigil_model_cache_misses_total",
                                     "Model lookups that had to load the model");
  metrics_.load_failures = &metrics.counter("vigil_model_cache_load_failures_total",
                                            "Model loads that failed (not cached)");
  metrics_.evictions = &metrics.counter("vigil_model_cache_evictions_total",
                                        "Models dropped from the cache to fit its byte budget");
  metrics_.bytes =
      &metrics.gauge("vigil_model_cache_bytes", "Estimated memory of the cached models (bytes)");
  metrics_.entries = &metrics.gauge("vigil_model_cache_entries", "Models in the cache");
}

ModelCache::ModelPtr ModelCache::peek(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  if (metrics_.hits) metrics_.hits->inc();
  return it->second->model;
}

Expected<ModelCache::ModelPtr> ModelCache::get_or_load(const std::string& key, Loader loader) {
  std::shared_ptr<Flight> flight;
  {
    std::unique_lock lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      if (metrics_.hits) metrics_.hits->inc();
      return it->second->model;
    }
    if (auto it = flights_.find(key); it != flights_.end()) {
      // Someone is loading it: wait for that load and share its result.
      std::shared_ptr<Flight> other = it->second;
      loaded_.wait(lock, [&] { return other->done; });
      if (metrics_.hits && other->result.ok()) metrics_.hits->inc();
      return other->result;
    }
    flight = std::make_shared<Flight>();
    flights_.emplace(key, flight);
    if (metrics_.misses) metrics_.misses->inc();
  }

  Expected<std::unique_ptr<LoadedModel>> loaded = internal_error("model loader failed");
  try {
    loaded = loader();
  } catch (const std::exception& e) {
    loaded = internal_error(std::string("model loader failed: ") + e.what());
  } catch (...) {
    loaded = internal_error("model loader failed");
  }
  Expected<ModelPtr> result = internal_error("model loader returned no model");
  if (!loaded.ok()) {
    result = loaded.status();
  } else if (*loaded != nullptr) {
    result = ModelPtr(std::move(*loaded));
  }

  std::lock_guard lock(mu_);
  if (result.ok() && !flight->erased) {
    insert_locked(key, *result);
  } else if (!result.ok() && metrics_.load_failures) {
    metrics_.load_failures->inc();
  }
  flight->result = result;
  flight->done = true;
  flights_.erase(key);
  loaded_.notify_all();
  return result;
}

void ModelCache::insert_locked(const std::string& key, ModelPtr model) {
  if (auto it = index_.find(key); it != index_.end()) {  // defensive: replace
    bytes_ -= it->second->bytes;
    lru_.erase(it->second);
    index_.erase(it);
  }
  size_t size = model->memory_bytes();
  lru_.push_front(Entry{key, std::move(model), size});
  index_.emplace(key, lru_.begin());
  bytes_ += size;
  // Evict from the back; the new entry is at the front and is never evicted.
  while (bytes_ > budget_ && lru_.size() > 1) {
    Entry& victim = lru_.back();
    bytes_ -= victim.bytes;
    index_.erase(victim.key);
    lru_.pop_back();
    if (metrics_.evictions) metrics_.evictions->inc();
  }
  update_gauges_locked();
}

void ModelCache::erase(const std::string& key) {
  std::lock_guard lock(mu_);
  if (auto it = flights_.find(key); it != flights_.end()) it->second->erased = true;
  if (auto it = index_.find(key); it != index_.end()) {
    bytes_ -= it->second->bytes;
    lru_.erase(it->second);
    index_.erase(it);
    update_gauges_locked();
  }
}

void ModelCache::update_gauges_locked() {
  if (metrics_.bytes) metrics_.bytes->set(static_cast<int64_t>(bytes_));
  if (metrics_.entries) metrics_.entries->set(static_cast<int64_t>(lru_.size()));
}

size_t ModelCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t ModelCache::size() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

}  // namespace vigil::runtime
