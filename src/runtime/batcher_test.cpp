#include "runtime/batcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "runtime/linear/linear_runtime.h"
#include "runtime/test_util.h"

namespace vigil::runtime {
namespace {

using namespace std::chrono_literals;
using testing::FakeModel;

// prediction = x0 + 2·x1 + 0.5, exact in float for the small integers used here.
std::shared_ptr<const LoadedModel> linear_model() {
  auto model = LinearRuntime().load(R"({"weights":[1,2],"bias":0.5})", {});
  EXPECT_TRUE(model.ok());
  return std::shared_ptr<const LoadedModel>(std::move(*model));
}

// Waits for a number of `done` calls.
class Completion {
 public:
  void add() {
    std::lock_guard lock(mu_);
    ++count_;
    cv_.notify_all();
  }
  bool wait_for(int n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

uint64_t counter_value(MetricsRegistry& metrics, const std::string& name,
                       const std::string& label) {
  return metrics.counter(name, "", {{"model", label}}).value();
}

TEST(BatcherTest, ConcurrentRequestsGetExactlyTheirOwnRows) {
  MetricsRegistry metrics;
  Batcher batcher({.max_batch_rows = 16, .max_wait = 2ms, .threads = 2}, metrics);
  auto model = linear_model();
  Completion completion;
  std::atomic<int> wrong{0};
  constexpr int kThreads = 4;
  constexpr int kPerThread = 150;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      for (int i = 0; i < kPerThread; ++i) {
        const size_t rows = 1 + rng() % 6;  // some requests are larger than others
        const int id = t * 1000 + i;
        std::vector<float> data;
        for (size_t r = 0; r < rows; ++r) {
          data.push_back(static_cast<float>(id));
          data.push_back(static_cast<float>(r));
        }
        batcher.submit(model, "lin", std::move(data), rows, [&, id, rows](Expected<Tensor> out) {
          bool ok = out.ok() && out->shape == std::vector<int64_t>{static_cast<int64_t>(rows)};
          for (size_t r = 0; ok && r < rows; ++r) {
            ok = out->values[r] == static_cast<float>(id) + 2.0f * static_cast<float>(r) + 0.5f;
          }
          if (!ok) ++wrong;
          completion.add();
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(completion.wait_for(kThreads * kPerThread));
  EXPECT_EQ(wrong.load(), 0);
  const uint64_t batches = counter_value(metrics, "vigil_batches_total", "lin");
  EXPECT_GT(batches, 0u);
  EXPECT_LE(batches, static_cast<uint64_t>(kThreads * kPerThread));
  std::printf("[ batcher  ] %d requests in %llu predict calls\n", kThreads * kPerThread,
              static_cast<unsigned long long>(batches));
}

TEST(BatcherTest, RequestsArrivingTogetherAreCoalesced) {
  MetricsRegistry metrics;
  Batcher batcher({.max_batch_rows = 64, .max_wait = 300ms, .threads = 1}, metrics);
  auto model = linear_model();
  Completion completion;
  std::atomic<int> wrong{0};
  for (int i = 0; i < 10; ++i) {
    batcher.submit(model, "lin", {static_cast<float>(i), 1}, 1, [&, i](Expected<Tensor> out) {
      if (!out.ok() || out->values.size() != 1 || out->values[0] != static_cast<float>(i) + 2.5f) {
        ++wrong;
      }
      completion.add();
    });
  }
  ASSERT_TRUE(completion.wait_for(10));
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LT(counter_value(metrics, "vigil_batches_total", "lin"), 10u);
  EXPECT_EQ(counter_value(metrics, "vigil_batch_rows_total", "lin"), 10u);
  std::string text = metrics.render();
  EXPECT_NE(text.find("vigil_batch_size_rows_count{model=\"lin\"}"), std::string::npos);
  EXPECT_NE(text.find("vigil_batch_queue_wait_seconds_count{model=\"lin\"} 10"), std::string::npos);
  EXPECT_NE(text.find("vigil_batch_compute_seconds_count{model=\"lin\"}"), std::string::npos);
}

TEST(BatcherTest, AFullBatchDoesNotWaitForTheDeadline) {
  MetricsRegistry metrics;
  Batcher batcher({.max_batch_rows = 4, .max_wait = 30s, .threads = 1}, metrics);
  auto model = linear_model();
  Completion completion;
  for (int i = 0; i < 4; ++i) {
    batcher.submit(model, "lin", {1, 1}, 1, [&](Expected<Tensor>) { completion.add(); });
  }
  EXPECT_TRUE(completion.wait_for(4, 5s));
  EXPECT_EQ(counter_value(metrics, "vigil_batches_total", "lin"), 1u);
}

TEST(BatcherTest, BatchesRespectMaxRowsAndBigRequestsRunAloneUnsplit) {
  MetricsRegistry metrics;
  std::mutex mu;
  std::vector<size_t> calls;  // rows per predict call
  auto model = std::make_shared<FakeModel>(
      1, 0, std::vector<int64_t>{},
      [&](std::span<const float> data, size_t rows) -> Expected<Tensor> {
        std::lock_guard lock(mu);
        calls.push_back(rows);
        Tensor t{{static_cast<int64_t>(rows)}, std::vector<float>(data.begin(), data.end())};
        return t;
      });
  Completion completion;
  std::atomic<int> wrong{0};
  {
    Batcher batcher({.max_batch_rows = 4, .max_wait = 200ms, .threads = 1}, metrics);
    auto submit = [&](size_t rows, float first) {
      std::vector<float> data(rows);
      for (size_t r = 0; r < rows; ++r) data[r] = first + static_cast<float>(r);
      batcher.submit(model, "fake", data, rows, [&, data](Expected<Tensor> out) {
        if (!out.ok() || out->values != data) ++wrong;
        completion.add();
      });
    };
    submit(3, 0);    // batch 1: 3 rows (the next one does not fit)
    submit(2, 100);  // batch 2: 2 + 1 + 1 = 4
    submit(1, 200);
    submit(1, 300);
    submit(10, 400);  // alone: larger than max_batch_rows
    ASSERT_TRUE(completion.wait_for(5));
  }
  EXPECT_EQ(wrong.load(), 0);
  std::lock_guard lock(mu);
  EXPECT_EQ(calls, (std::vector<size_t>{3, 4, 10}));
}

TEST(BatcherTest, BatchingOffRunsEveryRequestOnItsOwn) {
  for (BatcherOptions options :
       {BatcherOptions{.max_batch_rows = 1, .max_wait = 1s, .threads = 2},
        BatcherOptions{.max_batch_rows = 64, .max_wait = 0us, .threads = 2}}) {
    MetricsRegistry metrics;
    Batcher batcher(options, metrics);
    EXPECT_FALSE(batcher.batching_enabled());
    auto model = linear_model();
    Completion completion;
    std::atomic<int> wrong{0};
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
      batcher.submit(model, "lin", {static_cast<float>(i), 0, 1, 1}, 2,
                     [&, i](Expected<Tensor> out) {
                       if (!out.ok() || out->values != std::vector<float>{i + 0.5f, 3.5f}) {
                         ++wrong;
                       }
                       completion.add();
                     });
    }
    ASSERT_TRUE(completion.wait_for(20));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);  // nobody waited for max_wait
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(counter_value(metrics, "vigil_batches_total", "lin"), 20u);
    EXPECT_EQ(counter_value(metrics, "vigil_batch_rows_total", "lin"), 40u);
  }
}

TEST(BatcherTest, StopRunsWhatIsQueued) {
  MetricsRegistry metrics;
  auto model = linear_model();
  std::atomic<int> ok{0};
  const auto start = std::chrono::steady_clock::now();
  {
    Batcher batcher({.max_batch_rows = 64, .max_wait = 30s, .threads = 1}, metrics);
    for (int i = 0; i < 5; ++i) {
      batcher.submit(model, "lin", {1, 1}, 1, [&](Expected<Tensor> out) {
        if (out.ok()) ++ok;
      });
    }
    batcher.stop();
    EXPECT_EQ(ok.load(), 5);
    batcher.stop();  // idempotent
    Status after;
    batcher.submit(model, "lin", {1, 1}, 1, [&](Expected<Tensor> out) { after = out.status(); });
    EXPECT_EQ(after.code(), ErrorCode::kUnavailable);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(BatcherTest, APredictErrorReachesEveryRequestOfTheBatch) {
  MetricsRegistry metrics;
  auto model = std::make_shared<FakeModel>(
      1, 0, std::vector<int64_t>{},
      [](std::span<const float>, size_t) -> Expected<Tensor> { return internal_error("bad day"); });
  Completion completion;
  std::atomic<int> errors{0};
  {
    Batcher batcher({.max_batch_rows = 64, .max_wait = 100ms, .threads = 1}, metrics);
    for (int i = 0; i < 3; ++i) {
      batcher.submit(model, "fake", {1}, 1, [&](Expected<Tensor> out) {
        if (!out.ok() && out.status().message() == "bad day") ++errors;
        completion.add();
      });
    }
    ASSERT_TRUE(completion.wait_for(3));
  }
  EXPECT_EQ(errors.load(), 3);
}

TEST(BatcherTest, AMalformedRequestFailsAloneWithoutHurtingOthers) {
  MetricsRegistry metrics;
  auto model = linear_model();
  Completion completion;
  std::atomic<int> good{0};
  Status bad;
  {
    Batcher batcher({.max_batch_rows = 64, .max_wait = 50ms, .threads = 1}, metrics);
    batcher.submit(model, "lin", {1, 1}, 1, [&](Expected<Tensor> out) {
      if (out.ok() && out->values == std::vector<float>{3.5f}) ++good;
      completion.add();
    });
    batcher.submit(model, "lin", {1, 1, 1}, 1, [&](Expected<Tensor> out) {
      bad = out.status();
      completion.add();
    });
    batcher.submit(model, "lin", {2, 2}, 1, [&](Expected<Tensor> out) {
      if (out.ok() && out->values == std::vector<float>{6.5f}) ++good;
      completion.add();
    });
    ASSERT_TRUE(completion.wait_for(3));
  }
  EXPECT_EQ(good.load(), 2);
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("expects 2 features"), std::string::npos) << bad.message();
}

TEST(BatcherTest, MultiOutputResultsAreSplitPerRequest) {
  MetricsRegistry metrics;
  // Three outputs per row: (x, 10x, 100x).
  auto model = std::make_shared<FakeModel>(
      1, 0, std::vector<int64_t>{3}, [](std::span<const float> data, size_t rows) {
        Tensor t{{static_cast<int64_t>(rows), 3}, {}};
        for (float x : data) {
          t.values.insert(t.values.end(), {x, 10 * x, 100 * x});
        }
        return Expected<Tensor>(std::move(t));
      });
  Completion completion;
  std::vector<Tensor> results(2);
  {
    Batcher batcher({.max_batch_rows = 64, .max_wait = 100ms, .threads = 1}, metrics);
    batcher.submit(model, "multi", {1, 2}, 2, [&](Expected<Tensor> out) {
      if (out.ok()) results[0] = *out;
      completion.add();
    });
    batcher.submit(model, "multi", {3}, 1, [&](Expected<Tensor> out) {
      if (out.ok()) results[1] = *out;
      completion.add();
    });
    ASSERT_TRUE(completion.wait_for(2));
  }
  EXPECT_EQ(results[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(results[0].values, (std::vector<float>{1, 10, 100, 2, 20, 200}));
  EXPECT_EQ(results[1].shape, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(results[1].values, (std::vector<float>{3, 30, 300}));
  EXPECT_EQ(counter_value(metrics, "vigil_batches_total", "multi"), 1u);
}

TEST(BatcherTest, DifferentModelsAreNotMixed) {
  MetricsRegistry metrics;
  auto a = linear_model();
  auto b = std::shared_ptr<const LoadedModel>(
      LinearRuntime().load(R"({"weights":[0,0],"bias":7})", {}).value());
  Completion completion;
  std::atomic<int> wrong{0};
  {
    Batcher batcher({.max_batch_rows = 64, .max_wait = 50ms, .threads = 2}, metrics);
    for (int i = 0; i < 10; ++i) {
      const bool use_a = i % 2 == 0;
      batcher.submit(use_a ? a : b, use_a ? "a" : "b", {1, 1}, 1, [&, use_a](Expected<Tensor> out) {
        if (!out.ok() || out->values[0] != (use_a ? 3.5f : 7.0f)) ++wrong;
        completion.add();
      });
    }
    ASSERT_TRUE(completion.wait_for(10));
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(counter_value(metrics, "vigil_batch_rows_total", "a"), 5u);
  EXPECT_EQ(counter_value(metrics, "vigil_batch_rows_total", "b"), 5u);
}

// A stand-in for an I/O thread's event loop: defer() queues while the loop is "on this thread".
class FakeLoop {
 public:
  std::function<bool(std::function<void()>)> defer() {
    return [this](std::function<void()> fn) {
      if (std::this_thread::get_id() != owner_) return false;
      deferred_.push_back(std::move(fn));
      return true;
    };
  }
  size_t deferred() const { return deferred_.size(); }
  // One loop turn: runs what was deferred so far.
  void turn() {
    auto fns = std::move(deferred_);
    deferred_.clear();
    for (auto& fn : fns) fn();
  }

 private:
  std::thread::id owner_ = std::this_thread::get_id();
  std::vector<std::function<void()>> deferred_;
};

// A model that records the rows of each call and the thread that made it; y = x.
struct RecordingModel {
  std::mutex mu;
  std::vector<size_t> calls;
  std::vector<std::thread::id> threads;
  std::chrono::microseconds delay{0};
  std::shared_ptr<const LoadedModel> model = std::make_shared<FakeModel>(
      1, 0, std::vector<int64_t>{}, [this](std::span<const float> data, size_t rows) {
        if (delay.count() > 0) std::this_thread::sleep_for(delay);
        std::lock_guard lock(mu);
        calls.push_back(rows);
        threads.push_back(std::this_thread::get_id());
        return Expected<Tensor>(
            Tensor{{static_cast<int64_t>(rows)}, std::vector<float>(data.begin(), data.end())});
      });
  std::vector<size_t> take_calls() {
    std::lock_guard lock(mu);
    auto out = std::move(calls);
    calls.clear();
    return out;
  }
};

// Submits one request of `rows` rows valued first, first+1, …; counts wrong answers.
void submit_rows(Batcher& batcher, const std::shared_ptr<const LoadedModel>& model,
                 const std::string& label, size_t rows, float first, Completion& completion,
                 std::atomic<int>& wrong) {
  std::vector<float> data(rows);
  for (size_t r = 0; r < rows; ++r) data[r] = first + static_cast<float>(r);
  batcher.submit(model, label, data, rows, [&, data](Expected<Tensor> out) {
    if (!out.ok() || out->values != data) ++wrong;
    completion.add();
  });
}

// These tests are about how a round runs, not about the cost rule: any model counts as cheap, so a
// slow machine (ASan, a loaded CI host) cannot send the rounds to the workers.
constexpr std::chrono::microseconds kAnyCost = 10s;

TEST(BatcherLocalTest, ARoundRunsOnTheLoopThreadAfterItsTurnAsOneBatch) {
  MetricsRegistry metrics;
  FakeLoop loop;
  RecordingModel rec;
  Batcher batcher({.max_batch_rows = 64,
                   .max_wait = 30s,
                   .threads = 1,
                   .inline_max = kAnyCost,
                   .defer = loop.defer()},
                  metrics);
  Completion completion;
  std::atomic<int> wrong{0};
  // The model's cost is unknown: the first request goes to a worker (and waits for max_wait,
  // unless full), so make it full.
  submit_rows(batcher, rec.model, "m", 64, 0, completion, wrong);
  ASSERT_TRUE(completion.wait_for(1));
  EXPECT_EQ(rec.take_calls(), std::vector<size_t>{64});
  EXPECT_EQ(loop.deferred(), 0u);

  for (int i = 0; i < 5; ++i) submit_rows(batcher, rec.model, "m", 1, 10.0f * i, completion, wrong);
  EXPECT_EQ(completion.count(), 1);  // nothing runs before the loop's turn ends
  EXPECT_EQ(loop.deferred(), 1u);    // one flush for the whole round
  loop.turn();
  EXPECT_EQ(completion.count(), 6);  // answered inline, on this thread
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(rec.take_calls(), std::vector<size_t>{5});
  EXPECT_EQ(rec.threads.back(), std::this_thread::get_id());
  EXPECT_EQ(counter_value(metrics, "vigil_batches_local_total", "m"), 1u);
  EXPECT_EQ(counter_value(metrics, "vigil_batches_total", "m"), 2u);
  EXPECT_EQ(counter_value(metrics, "vigil_batch_rows_total", "m"), 69u);

  // The next round schedules its own flush.
  submit_rows(batcher, rec.model, "m", 2, 100, completion, wrong);
  EXPECT_EQ(loop.deferred(), 1u);
  loop.turn();
  EXPECT_EQ(completion.count(), 7);
  EXPECT_EQ(rec.take_calls(), std::vector<size_t>{2});
}

TEST(BatcherLocalTest, ARoundKeepsTheBatchingRules) {
  MetricsRegistry metrics;
  FakeLoop loop;
  RecordingModel a;
  RecordingModel b;
  Completion completion;
  std::atomic<int> wrong{0};
  Batcher batcher({.max_batch_rows = 4,
                   .max_wait = 30s,
                   .threads = 1,
                   .inline_max = kAnyCost,
                   .defer = loop.defer()},
                  metrics);
  submit_rows(batcher, a.model, "a", 4, 0, completion, wrong);  // full: runs on a worker now
  submit_rows(batcher, b.model, "b", 4, 0, completion, wrong);
  ASSERT_TRUE(completion.wait_for(2));
  a.take_calls();
  b.take_calls();

  submit_rows(batcher, a.model, "a", 3, 0, completion, wrong);    // a1: 3 (the next does not fit)
  submit_rows(batcher, b.model, "b", 1, 50, completion, wrong);   // b: 1 + 1
  submit_rows(batcher, a.model, "a", 2, 100, completion, wrong);  // a2: 2 + 1 + 1
  submit_rows(batcher, a.model, "a", 1, 200, completion, wrong);
  submit_rows(batcher, b.model, "b", 1, 250, completion, wrong);
  submit_rows(batcher, a.model, "a", 1, 300, completion, wrong);
  submit_rows(batcher, a.model, "a", 5, 400, completion, wrong);  // larger than a batch: worker
  std::vector<float> bad{1, 2};                                   // 2 values for 1 row: alone
  Status bad_status;
  batcher.submit(a.model, "a", bad, 1, [&](Expected<Tensor> out) {
    bad_status = out.status();
    completion.add();
  });
  ASSERT_EQ(loop.deferred(), 1u);
  loop.turn();
  ASSERT_TRUE(completion.wait_for(10));
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_FALSE(bad_status.ok());  // ran alone: the others' answers are right
  auto a_calls = a.take_calls();
  std::sort(a_calls.begin(), a_calls.end());              // the worker's call may come first
  EXPECT_EQ(a_calls, (std::vector<size_t>{1, 3, 4, 5}));  // 1: the bad one, alone
  EXPECT_EQ(b.take_calls(), std::vector<size_t>{2});
  EXPECT_EQ(counter_value(metrics, "vigil_batches_local_total", "a"), 3u);  // 3, 4, bad
}

TEST(BatcherLocalTest, WithBatchingOffARoundRunsEachRequestAlone) {
  MetricsRegistry metrics;
  FakeLoop loop;
  RecordingModel rec;
  Completion completion;
  std::atomic<int> wrong{0};
  Batcher batcher({.max_batch_rows = 1,
                   .max_wait = 1ms,
                   .threads = 1,
                   .inline_max = kAnyCost,
                   .defer = loop.defer()},
                  metrics);
  submit_rows(batcher, rec.model, "m", 1, 0, completion, wrong);
  ASSERT_TRUE(completion.wait_for(1));
  rec.take_calls();
  for (int i = 0; i < 3; ++i) submit_rows(batcher, rec.model, "m", 1, 1.0f * i, completion, wrong);
  submit_rows(batcher, rec.model, "m", 2, 9, completion, wrong);  // 2 rows: not local
  loop.turn();
  ASSERT_TRUE(completion.wait_for(5));
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(counter_value(metrics, "vigil_batches_local_total", "m"), 3u);
  EXPECT_EQ(counter_value(metrics, "vigil_batches_total", "m"), 5u);
}

TEST(BatcherLocalTest, DearModelsAndOtherThreadsGoToTheWorkers) {
  MetricsRegistry metrics;
  FakeLoop loop;
  RecordingModel slow;
  slow.delay = std::chrono::microseconds(3000);
  Completion completion;
  std::atomic<int> wrong{0};
  Batcher batcher({.max_batch_rows = 2,
                   .max_wait = 1ms,
                   .threads = 1,
                   .inline_max = std::chrono::microseconds(1000),
                   .defer = loop.defer()},
                  metrics);
  for (int i = 0; i < 3; ++i) submit_rows(batcher, slow.model, "slow", 2, 0, completion, wrong);
  ASSERT_TRUE(completion.wait_for(3));
  submit_rows(batcher, slow.model, "slow", 1, 0, completion, wrong);  // its calls took > 1 ms
  EXPECT_EQ(loop.deferred(), 0u);
  ASSERT_TRUE(completion.wait_for(4));

  RecordingModel fast;
  submit_rows(batcher, fast.model, "fast", 2, 0, completion, wrong);
  ASSERT_TRUE(completion.wait_for(5));
  std::thread other([&] { submit_rows(batcher, fast.model, "fast", 1, 0, completion, wrong); });
  other.join();  // not the loop's thread: defer() says no
  EXPECT_EQ(loop.deferred(), 0u);
  ASSERT_TRUE(completion.wait_for(6));
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(counter_value(metrics, "vigil_batches_local_total", "slow"), 0u);
  EXPECT_EQ(counter_value(metrics, "vigil_batches_local_total", "fast"), 0u);

  // inline_max = 0: never local.
  MetricsRegistry metrics2;
  Batcher never({.max_batch_rows = 2,
                 .max_wait = 1ms,
                 .threads = 1,
                 .inline_max = std::chrono::microseconds(0),
                 .defer = loop.defer()},
                metrics2);
  submit_rows(never, fast.model, "fast", 2, 0, completion, wrong);
  ASSERT_TRUE(completion.wait_for(7));
  submit_rows(never, fast.model, "fast", 1, 0, completion, wrong);
  EXPECT_EQ(loop.deferred(), 0u);
  ASSERT_TRUE(completion.wait_for(8));
}

}  // namespace
}  // namespace vigil::runtime
