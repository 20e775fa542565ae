#include "runtime/model_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "runtime/test_util.h"

namespace vigil::runtime {
namespace {

using testing::FakeModel;

ModelCache::Loader loader_of(size_t bytes, std::atomic<int>* calls = nullptr) {
  return [bytes, calls]() -> Expected<std::unique_ptr<LoadedModel>> {
    if (calls) ++*calls;
    return std::unique_ptr<LoadedModel>(std::make_unique<FakeModel>(1, bytes));
  };
}

TEST(ModelCacheTest, LoadsOnceThenHits) {
  ModelCache cache(1000);
  std::atomic<int> calls{0};
  EXPECT_EQ(cache.peek("a/1"), nullptr);
  auto first = cache.get_or_load("a/1", loader_of(100, &calls));
  ASSERT_TRUE(first.ok());
  auto second = cache.get_or_load("a/1", loader_of(100, &calls));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->get(), second->get());
  EXPECT_EQ(cache.peek("a/1").get(), first->get());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), 100u);
}

TEST(ModelCacheTest, EvictsLeastRecentlyUsedPastTheByteBudget) {
  ModelCache cache(100);
  ASSERT_TRUE(cache.get_or_load("a", loader_of(40)).ok());
  ASSERT_TRUE(cache.get_or_load("b", loader_of(40)).ok());
  ASSERT_NE(cache.peek("a"), nullptr);  // a is now more recent than b
  ASSERT_TRUE(cache.get_or_load("c", loader_of(40)).ok());
  EXPECT_NE(cache.peek("a"), nullptr);
  EXPECT_EQ(cache.peek("b"), nullptr);
  EXPECT_NE(cache.peek("c"), nullptr);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.bytes(), 80u);
  // A hit through get_or_load marks use too: after it, c is the least recently used.
  ASSERT_TRUE(cache.get_or_load("a", loader_of(40)).ok());
  ASSERT_TRUE(cache.get_or_load("d", loader_of(40)).ok());
  EXPECT_EQ(cache.peek("c"), nullptr);
  EXPECT_NE(cache.peek("a"), nullptr);
}

TEST(ModelCacheTest, AModelLargerThanTheBudgetIsServedAlone) {
  ModelCache cache(100);
  ASSERT_TRUE(cache.get_or_load("small", loader_of(50)).ok());
  auto big = cache.get_or_load("big", loader_of(500));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.peek("big").get(), big->get());
  EXPECT_EQ(cache.bytes(), 500u);
  ASSERT_TRUE(cache.get_or_load("small", loader_of(50)).ok());
  EXPECT_EQ(cache.peek("big"), nullptr);
  EXPECT_EQ(cache.bytes(), 50u);
}

TEST(ModelCacheTest, EvictedModelsStayAliveWhileReferenced) {
  ModelCache cache(10);
  auto a = cache.get_or_load("a", loader_of(10));
  ASSERT_TRUE(a.ok());
  std::weak_ptr<const LoadedModel> weak = *a;
  ASSERT_TRUE(cache.get_or_load("b", loader_of(10)).ok());
  EXPECT_EQ(cache.peek("a"), nullptr);
  EXPECT_FALSE(weak.expired());
  EXPECT_EQ((*a)->memory_bytes(), 10u);
  a = ModelCache::ModelPtr{};
  EXPECT_TRUE(weak.expired());
}

TEST(ModelCacheTest, ConcurrentCallersShareOneLoad) {
  ModelCache cache(1 << 20);
  std::atomic<int> calls{0};
  auto slow = [&]() -> Expected<std::unique_ptr<LoadedModel>> {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return std::unique_ptr<LoadedModel>(std::make_unique<FakeModel>(1, 10));
  };
  std::vector<std::thread> threads;
  std::vector<const LoadedModel*> got(8, nullptr);
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] {
      auto m = cache.get_or_load("k", slow);
      if (m.ok()) got[i] = m->get();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 1);
  for (auto* p : got) EXPECT_EQ(p, got[0]);
  EXPECT_NE(got[0], nullptr);
  // Different keys load independently and at once.
  calls = 0;
  threads.clear();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { (void)cache.get_or_load("other" + std::to_string(i), slow); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 4);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(390));
}

TEST(ModelCacheTest, FailedLoadsAreNotCachedAndReachEveryWaiter) {
  ModelCache cache(1000);
  std::atomic<int> calls{0};
  auto failing = [&]() -> Expected<std::unique_ptr<LoadedModel>> {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return invalid_argument("broken file");
  };
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto m = cache.get_or_load("k", failing);
      if (!m.ok() && m.status().code() == ErrorCode::kInvalidArgument &&
          m.status().message() == "broken file") {
        ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 4);
  EXPECT_LE(calls.load(), 4);
  EXPECT_GE(calls.load(), 1);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.peek("k"), nullptr);
  const int before = calls.load();
  EXPECT_FALSE(cache.get_or_load("k", failing).ok());
  EXPECT_EQ(calls.load(), before + 1);  // tried again
  EXPECT_TRUE(cache.get_or_load("k", loader_of(5)).ok());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ModelCacheTest, ThrowingOrEmptyLoadersFailCleanly) {
  ModelCache cache(1000);
  auto thrown = cache.get_or_load(
      "t", []() -> Expected<std::unique_ptr<LoadedModel>> { throw std::runtime_error("boom"); });
  EXPECT_EQ(thrown.status().code(), ErrorCode::kInternal);
  EXPECT_NE(thrown.status().message().find("boom"), std::string::npos);
  auto empty = cache.get_or_load("e", []() -> Expected<std::unique_ptr<LoadedModel>> {
    return std::unique_ptr<LoadedModel>{};
  });
  EXPECT_EQ(empty.status().code(), ErrorCode::kInternal);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ModelCacheTest, EraseDropsEntriesAndLoadsInFlight) {
  ModelCache cache(1000);
  ASSERT_TRUE(cache.get_or_load("a", loader_of(10)).ok());
  cache.erase("a");
  cache.erase("never-there");
  EXPECT_EQ(cache.peek("a"), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);

  std::atomic<bool> started{false};
  std::thread loading([&] {
    auto m = cache.get_or_load("b", [&]() -> Expected<std::unique_ptr<LoadedModel>> {
      started = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      return std::unique_ptr<LoadedModel>(std::make_unique<FakeModel>(1, 10));
    });
    EXPECT_TRUE(m.ok());  // the caller still gets its model
  });
  while (!started) std::this_thread::yield();
  cache.erase("b");
  loading.join();
  EXPECT_EQ(cache.peek("b"), nullptr);  // but it is not cached
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ModelCacheTest, Metrics) {
  MetricsRegistry metrics;
  ModelCache cache(100, metrics);
  ASSERT_TRUE(cache.get_or_load("a", loader_of(60)).ok());
  ASSERT_TRUE(cache.get_or_load("a", loader_of(60)).ok());
  ASSERT_TRUE(cache.get_or_load("b", loader_of(60)).ok());
  EXPECT_FALSE(
      cache
          .get_or_load("c",
                       [] { return Expected<std::unique_ptr<LoadedModel>>(invalid_argument("x")); })
          .ok());
  std::string text = metrics.render();
  EXPECT_NE(text.find("vigil_model_cache_hits_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_model_cache_misses_total 3"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_model_cache_load_failures_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_model_cache_evictions_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_model_cache_bytes 60"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_model_cache_entries 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace vigil::runtime
