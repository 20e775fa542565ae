#include "tasks/task_watch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "support/backends.h"
#include "tasks/task_suite.h"

namespace vigil::tasks {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// On the task suite's SQLite fixture (a user, a TaskService).
class TaskWatchTest : public testing::TaskSuite<vigil::testing::SqliteFileBackend> {
 protected:
  void SetUp() override {
    TaskSuite::SetUp();
    if (HasFatalFailure()) return;
    watch_ = std::make_unique<TaskWatch>(*tasks_, TaskWatch::Options{.poll = 20ms},
                                         [this](const Task& t) {
                                           std::lock_guard lock(mu_);
                                           elsewhere_.push_back(t.id);
                                         });
    watch_->start();
  }
  void TearDown() override {
    watch_.reset();
    TaskSuite::TearDown();
  }
  int64_t submit() {
    auto r =
        tasks_->submit({.user_id = user_, .model = "m", .version = 1, .input = "{}", .rows = 1});
    EXPECT_TRUE(r.ok() && r->ok);
    return r.ok() ? r->task.id : 0;
  }
  // A promise kept when the watch wakes the waiter.
  std::future<void> wait(int64_t id, Clock::duration d) {
    auto p = std::make_shared<std::promise<void>>();
    auto f = p->get_future();
    EXPECT_TRUE(watch_->wait(id, Clock::now() + d, [p](const Task*) { p->set_value(); }));
    return f;
  }
  std::vector<int64_t> elsewhere() {
    std::lock_guard lock(mu_);
    return elsewhere_;
  }

  std::unique_ptr<TaskWatch> watch_;
  std::mutex mu_;
  std::vector<int64_t> elsewhere_;
};

TEST_F(TaskWatchTest, AWaiterWakesWhenItsTaskEndsHereAndAtOnceWhenItHadEnded) {
  const int64_t id = submit();
  auto woken = wait(id, 60s);
  EXPECT_EQ(woken.wait_for(50ms), std::future_status::timeout);
  EXPECT_EQ(watch_->waiting(), 1u);
  Task t;
  t.id = id;
  watch_->ended_here(t);
  EXPECT_EQ(woken.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(watch_->waiting(), 0u);
  // Ended a moment ago: no wait at all.
  EXPECT_EQ(wait(id, 60s).wait_for(0s), std::future_status::ready);
  EXPECT_TRUE(elsewhere().empty());  // its own ends are not reported as others'
}

TEST_F(TaskWatchTest, AWaiterWakesAtItsDeadline) {
  const int64_t id = submit();
  auto late = wait(id, 60s);
  auto soon = wait(id, 30ms);
  EXPECT_EQ(soon.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(late.wait_for(0s), std::future_status::timeout);
  EXPECT_EQ(watch_->waiting(), 1u);
}

TEST_F(TaskWatchTest, TasksThatEndElsewhereAreFoundReportedOnceAndWakeTheirWaiters) {
  const int64_t id = submit();
  auto woken = wait(id, 60s);
  // Another process claims and finishes it: only the store knows.
  auto claimed = tasks_->claim("worker-on-another-machine");
  ASSERT_TRUE(claimed.ok() && *claimed);
  ASSERT_TRUE(*tasks_->finish(id, Outcome::kDone, "{}"));
  EXPECT_EQ(woken.wait_for(5s), std::future_status::ready);
  std::this_thread::sleep_for(100ms);  // a few more polls read it again
  EXPECT_EQ(elsewhere(), std::vector<int64_t>{id});
}

TEST_F(TaskWatchTest, StopWakesEveryWaiterAndLaterWaitsAnswerAtOnce) {
  const int64_t id = submit();
  auto a = wait(id, 60s);
  auto b = wait(id + 1, 60s);
  watch_->stop();
  EXPECT_EQ(a.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(b.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(wait(id, 60s).wait_for(0s), std::future_status::ready);
}

TEST_F(TaskWatchTest, BeyondMaxWaitersAWaitIsRefused) {
  TaskWatch small(*tasks_, TaskWatch::Options{.poll = 1s, .max_waiters = 2}, nullptr);
  small.start();
  std::atomic<int> woken{0};
  EXPECT_TRUE(small.wait(1, Clock::now() + 60s, [&](const Task*) { ++woken; }));
  EXPECT_TRUE(small.wait(2, Clock::now() + 60s, [&](const Task*) { ++woken; }));
  EXPECT_FALSE(small.wait(3, Clock::now() + 60s, [&](const Task*) { ++woken; }));
  EXPECT_EQ(woken.load(), 0);
  small.stop();
  EXPECT_EQ(woken.load(), 2);
}

}  // namespace
}  // namespace vigil::tasks
