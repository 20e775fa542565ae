// Batcher: dynamic batching of predictions. Requests for the same loaded model that arrive
// close together are coalesced into one predict() call, which costs little more than a single
// row for tree models; the results are split back per request.
//
// Semantics:
//  - submit() never waits for compute: it queues the request and returns.
//  - Requests for one model (the same LoadedModel object) queue together. A batch closes when
//    its rows reach max_batch_rows or max_wait has passed since its oldest request was queued,
//    whichever comes first; it takes queued requests in order while they fit in
//    max_batch_rows. A request larger than max_batch_rows runs alone, unsplit.
//  - Batching off (max_batch_rows <= 1 or max_wait == 0): every request runs on its own as soon
//    as a worker is free.
//  - A request whose data does not match the model's feature count, and requests for models
//    that take any number of columns (num_features() == 0), run alone too, so a bad request
//    never affects others; its predict() error is its answer.
//  - Local rounds (options.defer set): a request submitted on an event-loop thread, for a model
//    whose recent predict() calls took at most options.inline_max, of at most max_batch_rows rows
//    (1 with batching off), is not handed to a worker. It joins this thread's pending list and
//    the first such request asks defer() to run a flush once the loop has handled the events
//    that are ready now; the flush runs the list as batches (by the rules above, without waiting
//    for max_wait) on that thread. So the requests that one loop turn read are predicted together
//    and answered without a thread hop. A model's cost is unknown until a worker has run it once;
//    requests from other threads (defer() returns false) and dear models go to the workers.
//  - `done` runs on the thread that ran the batch (a batcher thread, or the submitting loop
//    thread for a local round) with shape {its rows} + row_output_shape(), or the batch's error
//    (a failed predict() fails every request of that batch). It must not throw or block for long.
//  - stop() (and the destructor) run everything queued, then join the workers. A submit() after
//    stop() is answered at once, on the caller's thread, with kUnavailable (a null model with
//    kInternal). stop() must not be called from a `done` callback.
//
// Metrics, labelled model=<model_label>: vigil_batch_rows_total, vigil_batches_total,
// vigil_batch_size_rows (histogram of rows per predict call), vigil_batch_queue_wait_seconds
// (per request, submit to compute start) and vigil_batch_compute_seconds (per predict call).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"
#include "runtime/runtime.h"

namespace vigil::runtime {

struct BatcherOptions {
  size_t max_batch_rows = 64;               // rows per predict call; <= 1: batching off
  std::chrono::microseconds max_wait{500};  // longest a request waits for company; 0: off
  int threads = 0;                          // worker threads; 0 = hardware cores
  // Local rounds: a model whose predict() calls recently took at most this long may run on the
  // submitting loop thread; 0 = never (every batch goes to the workers).
  std::chrono::microseconds inline_max{200};
  // Schedules fn on the calling thread's event loop, behind the handlers ready now; returns
  // false (and drops fn) when the calling thread runs no such loop. Empty: no local rounds.
  std::function<bool(std::function<void()>)> defer;
};

class Batcher {
 public:
  using Done = std::function<void(Expected<Tensor>)>;

  Batcher(BatcherOptions options, MetricsRegistry& metrics);
  ~Batcher();  // stop()
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // rows_data: rows × model->num_features() values, row-major, NaN = missing. Thread-safe.
  void submit(std::shared_ptr<const LoadedModel> model, std::string model_label,
              std::vector<float> rows_data, size_t rows, Done done);

  // Finishes every queued request, then joins the workers. Idempotent.
  void stop();

  bool batching_enabled() const { return batching_; }
  const BatcherOptions& options() const { return options_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct ModelMetrics {
    Counter* rows = nullptr;
    Counter* batches = nullptr;
    Counter* local_batches = nullptr;
    Histogram* batch_rows = nullptr;
    Histogram* queue_wait = nullptr;
    Histogram* compute = nullptr;
    // Recent compute time of one call of at most max_batch_rows rows (moving average), ns;
    // < 0 until the first such call.
    std::atomic<int64_t> cost_ns{-1};
  };
  struct Request {
    std::vector<float> data;
    size_t rows = 0;
    Done done;
    Clock::time_point queued;
  };
  struct Batch {
    std::shared_ptr<const LoadedModel> model;
    ModelMetrics* metrics = nullptr;
    std::vector<Request> requests;
  };
  struct Queue {
    std::shared_ptr<const LoadedModel> model;
    ModelMetrics* metrics = nullptr;
    std::deque<Request> requests;
    size_t rows = 0;
  };

  struct Pending {
    std::shared_ptr<const LoadedModel> model;
    ModelMetrics* metrics = nullptr;
    Request request;
    bool alone = false;
  };
  // This thread's pending list for one batcher.
  struct LocalRound {
    std::vector<Pending> pending;
    bool scheduled = false;
  };

  void run();
  ModelMetrics* metrics_for_locked(const std::string& label);
  bool submit_local(std::shared_ptr<const LoadedModel>& model, ModelMetrics* metrics,
                    Request& request, bool alone);
  LocalRound& local_round();
  size_t local_max_rows() const { return batching_ ? options_.max_batch_rows : 1; }
  void flush_local();
  // Takes the next batch from q (at least one request).
  Batch take_batch_locked(Queue& q);
  void execute(Batch& batch);

  const BatcherOptions options_;
  const bool batching_;
  const uint64_t id_;  // tells this batcher's thread-local rounds from an earlier one's
  MetricsRegistry& registry_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::map<std::string, ModelMetrics> metrics_;  // by label; entries stay put
  std::unordered_map<const LoadedModel*, Queue> queues_;
  std::deque<Batch> ready_;  // closed batches waiting for a worker
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace vigil::runtime
