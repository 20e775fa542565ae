#include "runtime/batcher.h"

#include <algorithm>
#include <utility>

#include "core/thread_name.h"
#include "runtime/model_input.h"

namespace vigil::runtime {
namespace {

const std::vector<double>& batch_rows_buckets() {
  static const std::vector<double> kBuckets{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
  return kBuckets;
}

std::atomic<uint64_t> next_batcher_id{1};

double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

Batcher::Batcher(BatcherOptions options, MetricsRegistry& metrics)
    : options_(options),
      batching_(options.max_batch_rows > 1 && options.max_wait.count() > 0),
      id_(next_batcher_id.fetch_add(1, std::memory_order_relaxed)),
      registry_(metrics) {
  int threads = options_.threads;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  workers_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    workers_.emplace_back([this, i] {
      set_thread_name("vigil-batch-" + std::to_string(i));
      run();
    });
  }
}

Batcher::~Batcher() { stop(); }

void Batcher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
}

Batcher::ModelMetrics* Batcher::metrics_for_locked(const std::string& label) {
  auto [it, added] = metrics_.try_emplace(label);
  ModelMetrics& m = it->second;
  if (!added) return &m;
  MetricLabels labels{{"model", label}};
  m.rows =
      &registry_.counter("vigil_batch_rows_total", "Rows predicted through the batcher", labels);
  m.batches =
      &registry_.counter("vigil_batches_total", "predict() calls made by the batcher", labels);
  m.local_batches = &registry_.counter(
      "vigil_batches_local_total",
      "predict() calls run on the event-loop thread that read their requests", labels);
  m.batch_rows = &registry_.histogram("vigil_batch_size_rows", "Rows per batched predict() call",
                                      labels, batch_rows_buckets());
  m.queue_wait =
      &registry_.histogram("vigil_batch_queue_wait_seconds",
                           "Time a request waited in the batcher before compute", labels);
  m.compute = &registry_.histogram("vigil_batch_compute_seconds",
                                   "Time of one batched predict() call", labels);
  return &m;
}

Batcher::LocalRound& Batcher::local_round() {
  // A few batchers at most per process (one, outside tests): a short list, found by id so that a
  // batcher made at a destroyed one's address never sees its leftovers.
  thread_local std::vector<std::pair<uint64_t, std::unique_ptr<LocalRound>>> rounds;
  for (auto& [id, round] : rounds) {
    if (id == id_) return *round;
  }
  if (rounds.size() >= 8) rounds.erase(rounds.begin());
  rounds.emplace_back(id_, std::make_unique<LocalRound>());
  return *rounds.back().second;
}

bool Batcher::submit_local(std::shared_ptr<const LoadedModel>& model, ModelMetrics* metrics,
                           Request& request, bool alone) {
  if (!options_.defer || options_.inline_max.count() <= 0) return false;
  if (request.rows > local_max_rows()) return false;
  const int64_t cost = metrics->cost_ns.load(std::memory_order_relaxed);
  if (cost < 0 ||
      cost > std::chrono::duration_cast<std::chrono::nanoseconds>(options_.inline_max).count()) {
    return false;
  }
  LocalRound& round = local_round();
  if (!round.scheduled) {
    if (!options_.defer([this] { flush_local(); })) return false;
    round.scheduled = true;
  }
  round.pending.push_back(Pending{std::move(model), metrics, std::move(request), alone});
  return true;
}

void Batcher::flush_local() {
  LocalRound& round = local_round();
  std::vector<Pending> items = std::move(round.pending);
  round.pending.clear();
  round.scheduled = false;
  // Batches in arrival order of their first request: each takes the later requests for the
  // same model that fit, as take_batch_locked() does for a shared queue.
  const size_t max_rows = local_max_rows();
  std::vector<bool> taken(items.size(), false);
  for (size_t i = 0; i < items.size(); ++i) {
    if (taken[i]) continue;
    Batch batch{items[i].model, items[i].metrics, {}};
    size_t rows = items[i].request.rows;
    batch.requests.push_back(std::move(items[i].request));
    taken[i] = true;
    if (batching_ && !items[i].alone) {
      for (size_t j = i + 1; j < items.size() && rows < max_rows; ++j) {
        if (taken[j] || items[j].alone || items[j].model != batch.model ||
            rows + items[j].request.rows > max_rows) {
          continue;
        }
        rows += items[j].request.rows;
        batch.requests.push_back(std::move(items[j].request));
        taken[j] = true;
      }
    }
    batch.metrics->local_batches->inc();
    execute(batch);
  }
}

void Batcher::submit(std::shared_ptr<const LoadedModel> model, std::string model_label,
                     std::vector<float> rows_data, size_t rows, Done done) {
  Request request{std::move(rows_data), rows, std::move(done), Clock::now()};
  if (model == nullptr) {
    request.done(internal_error("batcher: no model"));
    return;
  }
  std::unique_lock lock(mu_);
  if (stopping_) {
    lock.unlock();
    request.done(unavailable("the batcher is stopped"));
    return;
  }
  ModelMetrics* metrics = metrics_for_locked(model_label);
  const size_t features = model->num_features();
  const bool alone =
      !batching_ || features == 0 || !check_input(request.data, request.rows, features).ok();
  lock.unlock();
  if (submit_local(model, metrics, request, alone)) return;
  lock.lock();
  if (stopping_) {
    lock.unlock();
    request.done(unavailable("the batcher is stopped"));
    return;
  }
  if (alone) {
    Batch batch{std::move(model), metrics, {}};
    batch.requests.push_back(std::move(request));
    ready_.push_back(std::move(batch));
    lock.unlock();
    wake_.notify_one();
    return;
  }
  Queue& q = queues_[model.get()];
  const bool first = q.requests.empty();
  if (first) {
    q.model = std::move(model);
    q.metrics = metrics;
  }
  q.rows += request.rows;
  q.requests.push_back(std::move(request));
  const bool full = q.rows >= options_.max_batch_rows;
  lock.unlock();
  // A new queue needs a worker to watch its deadline; a full one needs a worker now.
  if (first || full) wake_.notify_one();
}

Batcher::Batch Batcher::take_batch_locked(Queue& q) {
  Batch batch{q.model, q.metrics, {}};
  size_t rows = 0;
  while (!q.requests.empty()) {
    size_t next = q.requests.front().rows;
    if (!batch.requests.empty() && rows + next > options_.max_batch_rows) break;
    rows += next;
    batch.requests.push_back(std::move(q.requests.front()));
    q.requests.pop_front();
    if (rows >= options_.max_batch_rows) break;
  }
  q.rows -= rows;
  return batch;
}

void Batcher::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    Batch batch;
    bool have_batch = false;
    Clock::time_point next_deadline = Clock::time_point::max();
    if (!ready_.empty()) {
      batch = std::move(ready_.front());
      ready_.pop_front();
      have_batch = true;
    } else {
      // The queue whose oldest request waited longest, if it is due (full, late or stopping).
      const auto now = Clock::now();
      Queue* due = nullptr;
      Clock::time_point due_deadline = Clock::time_point::max();
      for (auto& [key, q] : queues_) {
        const auto deadline = q.requests.front().queued + options_.max_wait;
        if ((stopping_ || q.rows >= options_.max_batch_rows || deadline <= now) &&
            deadline < due_deadline) {
          due = &q;
          due_deadline = deadline;
        }
        next_deadline = std::min(next_deadline, deadline);
      }
      if (due != nullptr) {
        batch = take_batch_locked(*due);
        have_batch = true;
        if (due->requests.empty()) queues_.erase(batch.model.get());
      }
    }
    if (have_batch) {
      // More work may be waiting: let another worker look while this one computes.
      const bool more = !ready_.empty() || !queues_.empty();
      lock.unlock();
      if (more) wake_.notify_one();
      execute(batch);
      batch = Batch{};  // release the model and callbacks outside the lock
      lock.lock();
      continue;
    }
    if (stopping_ && queues_.empty()) return;
    if (queues_.empty()) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, next_deadline);
    }
  }
}

void Batcher::execute(Batch& batch) {
  const auto start = Clock::now();
  size_t total_rows = 0;
  for (const auto& r : batch.requests) {
    total_rows += r.rows;
    batch.metrics->queue_wait->observe(seconds_between(r.queued, start));
  }
  Expected<Tensor> result = internal_error("no prediction");
  if (batch.requests.size() == 1) {
    result = batch.model->predict(batch.requests.front().data, total_rows);
  } else {
    std::vector<float> data;
    size_t values = 0;
    for (const auto& r : batch.requests) values += r.data.size();
    data.reserve(values);
    for (const auto& r : batch.requests) data.insert(data.end(), r.data.begin(), r.data.end());
    result = batch.model->predict(data, total_rows);
  }
  const auto took = Clock::now() - start;
  batch.metrics->compute->observe(std::chrono::duration<double>(took).count());
  if (total_rows <= local_max_rows()) {
    // Moving average over about the last 8 calls; only calls a local round could make count.
    const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(took).count();
    const int64_t before = batch.metrics->cost_ns.load(std::memory_order_relaxed);
    batch.metrics->cost_ns.store(before < 0 ? ns : before + (ns - before) / 8,
                                 std::memory_order_relaxed);
  }
  batch.metrics->batches->inc();
  batch.metrics->rows->inc(total_rows);
  batch.metrics->batch_rows->observe(static_cast<double>(total_rows));

  const std::vector<int64_t> row_shape = batch.model->row_output_shape();
  const size_t per_row = row_output_size(row_shape);
  if (result.ok() && result->values.size() != total_rows * per_row) {
    result = internal_error("the model returned " + std::to_string(result->values.size()) +
                            " values for " + std::to_string(total_rows) + " rows");
  }
  if (!result.ok()) {
    for (auto& r : batch.requests) r.done(result.status());
    return;
  }
  if (batch.requests.size() == 1) {
    batch.requests.front().done(std::move(result));
    return;
  }
  size_t offset = 0;
  for (auto& r : batch.requests) {
    Tensor t;
    t.shape.reserve(row_shape.size() + 1);
    t.shape.push_back(static_cast<int64_t>(r.rows));
    t.shape.insert(t.shape.end(), row_shape.begin(), row_shape.end());
    const size_t n = r.rows * per_row;
    t.values.assign(result->values.begin() + static_cast<ptrdiff_t>(offset),
                    result->values.begin() + static_cast<ptrdiff_t>(offset + n));
    offset += n;
    r.done(std::move(t));
  }
}

}  // namespace vigil::runtime
