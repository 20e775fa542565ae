// TaskService's behaviour suite, run on SQLite (task_service_test.cpp) and PostgreSQL
// (task_service_pgtest.cpp): submit with a hold, Idempotency-Key, cancel, claims with leases
// taken over when they run out, poison tasks, finishing exactly once. Exact balances after
// thousands of concurrent submits, cancels, claims, failures and repeated completions are in
// feed_suite.h, through each queue.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "support/backends.h"
#include "tasks/task_service.h"

namespace vigil::tasks::testing {

template <typename Backend>
class TaskSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.set_up();
    if (IsSkipped() || HasFatalFailure()) return;
    vigil::testing::open_migrated(backend_.url(), 8, db_);
    if (HasFatalFailure()) return;
    ledger_ = std::make_unique<Ledger>(*db_);
    auto now = [this] { return start_ + std::chrono::milliseconds(clock_ms_.load()); };
    tasks_ = std::make_unique<TaskService>(
        *db_, *ledger_, TaskService::Options{.lease = std::chrono::seconds(30), .max_attempts = 2},
        now);
    auto rows = db_->query(
        "INSERT INTO users (email, email_key, password_hash, role, created_at, updated_at) "
        "VALUES ('a@example.com', 'a@example.com', 'x', 'user', '2026-01-01T00:00:00.000Z', "
        "'2026-01-01T00:00:00.000Z') RETURNING id");
    ASSERT_TRUE(rows.ok()) << rows.status().to_string();
    user_ = rows->get_int(0, 0);
  }
  void TearDown() override {
    tasks_.reset();
    ledger_.reset();
    db_.reset();
    backend_.tear_down();
  }

  NewTask new_task(int64_t cost, std::string key = {}, std::string input = R"({"rows":[{}]})") {
    return {.user_id = user_,
            .model = "m",
            .version = 1,
            .input = std::move(input),
            .rows = 1,
            .cost = cost,
            .idempotency_key = std::move(key)};
  }
  Account account() { return *ledger_->account(user_); }
  int64_t ledger_sum() {
    auto rows = db_->query("SELECT COALESCE(SUM(amount), 0) FROM credit_ledger WHERE user_id = $1",
                           {user_});
    return rows.ok() ? rows->get_int(0, 0) : -1;
  }

  Backend backend_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<TaskService> tasks_;
  std::chrono::system_clock::time_point start_ = std::chrono::system_clock::now();
  std::atomic<int64_t> clock_ms_{0};
  int64_t user_ = 0;
};

TYPED_TEST_SUITE_P(TaskSuite);

TYPED_TEST_P(TaskSuite, SubmitHoldsCancelReleasesShortStoresNothing) {
  auto& t = *this->tasks_;
  ASSERT_TRUE(this->ledger_->adjust(this->user_, 1'000, "top-up", 0).ok());
  auto a = t.submit(this->new_task(600));
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  ASSERT_TRUE(a->ok);
  EXPECT_EQ(a->task.status, TaskStatus::kQueued);
  EXPECT_EQ(this->account().held, 600);
  auto short_of = t.submit(this->new_task(401));
  ASSERT_TRUE(short_of.ok());
  EXPECT_FALSE(short_of->ok);
  EXPECT_EQ(short_of->short_of.account.available(), 400);
  EXPECT_EQ(t.list({.user_id = this->user_})->size(), 1u);  // nothing stored

  auto cancelled = t.cancel(a->task.id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().to_string();
  EXPECT_EQ(cancelled->status, TaskStatus::kCancelled);
  EXPECT_EQ(this->account().held, 0);
  EXPECT_EQ(this->account().balance, 1'000);
  EXPECT_EQ(t.cancel(a->task.id).status().code(), ErrorCode::kConflict);
  EXPECT_EQ(t.cancel(999999).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(t.get(999999).status().code(), ErrorCode::kNotFound);
  auto free = t.submit(this->new_task(0));
  ASSERT_TRUE(free.ok() && free->ok);  // a free task holds nothing
  auto running = t.claim("w1");
  ASSERT_TRUE(running.ok() && *running);
  EXPECT_EQ(t.cancel(free->task.id).status().code(), ErrorCode::kConflict);
  auto queued = t.list({.user_id = this->user_, .status = TaskStatus::kCancelled});
  ASSERT_EQ(queued->size(), 1u);
}

TYPED_TEST_P(TaskSuite, AnIdempotencyKeyMakesOneTask) {
  auto& t = *this->tasks_;
  ASSERT_TRUE(this->ledger_->adjust(this->user_, 1'000, "top-up", 0).ok());
  auto first = t.submit(this->new_task(100, "key-1"));
  auto again = t.submit(this->new_task(100, "key-1"));
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_FALSE(first->repeat);
  EXPECT_TRUE(again->repeat);
  EXPECT_EQ(again->task.id, first->task.id);
  EXPECT_EQ(this->account().held, 100);  // held once
  EXPECT_EQ(t.submit(this->new_task(100, "key-1", R"({"rows":[{"x":1}]})")).status().code(),
            ErrorCode::kConflict);
  // Many at once with one key: one task.
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<int64_t> ids;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto s = t.submit(this->new_task(100, "key-2"));
      ASSERT_TRUE(s.ok()) << s.status().to_string();
      std::lock_guard lock(mu);
      ids.insert(s->task.id);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(this->account().held, 200);
}

// A worker that dies leaves a lease that runs out; the next claim takes the task over; it is
// finished and charged once. A task whose claims never finish is failed as poison.
TYPED_TEST_P(TaskSuite, LeasesRunOutAndTasksFinishOnce) {
  auto& t = *this->tasks_;
  ASSERT_TRUE(this->ledger_->adjust(this->user_, 1'000, "top-up", 0).ok());
  auto a = t.submit(this->new_task(300));
  auto b = t.submit(this->new_task(200));
  ASSERT_TRUE(a.ok() && b.ok());
  auto c1 = t.claim("w1");
  ASSERT_TRUE(c1.ok() && *c1);
  EXPECT_EQ((*c1)->id, a->task.id);  // oldest first
  EXPECT_EQ((*c1)->attempts, 1);
  auto c2 = t.claim("w2");
  ASSERT_TRUE(c2.ok() && *c2);
  EXPECT_EQ((*c2)->id, b->task.id);
  EXPECT_FALSE(*t.claim("w3"));                        // nothing else to do
  EXPECT_FALSE(*t.claim_id(a->task.id, "w3", false));  // w1's lease is live
  EXPECT_TRUE(*t.renew(a->task.id, "w1"));
  EXPECT_FALSE(*t.renew(a->task.id, "w3"));

  this->clock_ms_ += 31'000;  // w1 and w2 died: their leases ran out
  auto taken = t.claim("w3");
  ASSERT_TRUE(taken.ok() && *taken);
  EXPECT_EQ((*taken)->id, a->task.id);
  EXPECT_EQ((*taken)->attempts, 2);
  EXPECT_TRUE(*t.finish(a->task.id, Outcome::kDone, R"({"predictions":[1]})"));
  EXPECT_FALSE(*t.finish(a->task.id, Outcome::kDone, "{}"));  // w1 comes back: nothing
  EXPECT_FALSE(*t.finish(a->task.id, Outcome::kFailed, "late"));
  auto done = t.get(a->task.id);
  EXPECT_EQ(done->status, TaskStatus::kDone);
  EXPECT_EQ(done->result, R"({"predictions":[1]})");
  EXPECT_EQ(this->account().balance, 700);

  // b: claimed twice (max_attempts 2), both workers died: failed, its hold released.
  ASSERT_TRUE(*t.claim_id(b->task.id, "w4", true));  // the queue says w2 is gone
  this->clock_ms_ += 31'000;
  EXPECT_FALSE(*t.claim("w5"));
  auto poison = t.get(b->task.id);
  EXPECT_EQ(poison->status, TaskStatus::kFailed);
  EXPECT_NE(poison->error.find("given up after 2 attempts"), std::string::npos);
  EXPECT_EQ(this->account().held, 0);
  EXPECT_EQ(this->account().balance, 700);
  EXPECT_EQ(this->ledger_sum(), 700);
}

// Several tasks claimed and finished in one transaction each, with the same rules as one.
TYPED_TEST_P(TaskSuite, TasksAreClaimedAndFinishedManyAtOnce) {
  auto& t = *this->tasks_;
  ASSERT_TRUE(this->ledger_->adjust(this->user_, 1'000, "top-up", 0).ok());
  std::vector<int64_t> ids;
  for (int64_t cost : {100, 200, 300}) ids.push_back(t.submit(this->new_task(cost))->task.id);
  ASSERT_TRUE(t.cancel(ids[1]).ok());
  auto claimed = t.claim_many({ids[2], ids[1], ids[0], 999'999}, "w1");
  ASSERT_TRUE(claimed.ok()) << claimed.status().to_string();
  ASSERT_EQ(claimed->size(), 2u);  // the cancelled one and the unknown id are left out
  EXPECT_EQ((*claimed)[0].id, ids[0]);
  EXPECT_EQ((*claimed)[1].id, ids[2]);
  EXPECT_EQ((*claimed)[0].status, TaskStatus::kRunning);
  EXPECT_EQ((*claimed)[0].attempts, 1);
  EXPECT_EQ((*claimed)[0].lease_owner, "w1");
  EXPECT_TRUE(t.claim_many({ids[0]}, "w2")->empty());  // running already
  auto ended = t.finish_many({{ids[0], Outcome::kDone, R"({"rows":[]})"},
                              {ids[2], Outcome::kFailed, "no"},
                              {ids[0], Outcome::kDone, "{}"}});  // a second time: nothing
  ASSERT_TRUE(ended.ok()) << ended.status().to_string();
  ASSERT_EQ(ended->size(), 3u);
  ASSERT_TRUE((*ended)[0]);
  EXPECT_EQ((*ended)[0]->status, TaskStatus::kDone);
  EXPECT_EQ((*ended)[0]->result, R"({"rows":[]})");
  ASSERT_TRUE((*ended)[1]);
  EXPECT_EQ((*ended)[1]->status, TaskStatus::kFailed);
  EXPECT_FALSE((*ended)[2]);
  EXPECT_EQ(this->account().balance, 900);  // only the done one is charged
  EXPECT_EQ(this->account().held, 0);
  EXPECT_EQ(this->ledger_sum(), 900);
}

REGISTER_TYPED_TEST_SUITE_P(TaskSuite, SubmitHoldsCancelReleasesShortStoresNothing,
                            AnIdempotencyKeyMakesOneTask, LeasesRunOutAndTasksFinishOnce,
                            TasksAreClaimedAndFinishedManyAtOnce);

}  // namespace vigil::tasks::testing
