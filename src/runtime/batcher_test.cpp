#include "runtime/batcher.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace vigil::runtime
