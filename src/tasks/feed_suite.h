// Tasks through a queue, the same suite on every queue and store: the embedded queue (the
// tasks table, StoreFeed) and RabbitMQ (QueueFeed on a real broker, tests/support/
// rabbit_server.h), each on SQLite (task_service_test.cpp) and PostgreSQL
// (task_service_pgtest.cpp). Workers take tasks only through a TaskFeed, as WorkerPool does; a
// worker that dies is a feed destroyed without settling its task (its consumer's connection closes;
// on the embedded queue its lease runs out).
#pragma once

#include "bus/amqp_queue.h"
#include "support/rabbit_server.h"
#include "tasks/queue_feed.h"
#include "tasks/task_suite.h"
#include "tasks/worker.h"

namespace vigil::tasks::testing {

using namespace std::chrono_literals;

// The embedded queue.
struct StoreQueue {
  void set_up() {}
  void tear_down() {}
  std::unique_ptr<TaskFeed> feed(TaskService& t, int /*prefetch*/ = 1) {
    return std::make_unique<StoreFeed>(t, 5ms);
  }
  int64_t dead_letters() { return 0; }
};

// RabbitMQ: a queue of its own on the harness broker; skips loudly without RabbitMQ.
struct RabbitQueue {
  void set_up() {
    VIGIL_RABBIT_SERVER_OR_SKIP(server);
    if (!server->running()) {
      std::string error;
      ASSERT_TRUE(server->restart(&error)) << error;
    }
    static std::atomic<int> n{0};
    options = {.url = server->url(),
               .name = "suite." + std::to_string(::getpid()) + "." + std::to_string(++n)};
    auto q = bus::open_amqp_queue(options);
    ASSERT_TRUE(q.ok()) << q.status().to_string();
    queue = std::move(*q);
  }
  // A feed whose consumers hold up to `prefetch` messages (through a queue handle of its own).
  std::unique_ptr<TaskFeed> feed(TaskService& t, int prefetch = 1) {
    bus::Queue* q = queue.get();
    if (prefetch != 1) {
      auto o = options;
      o.prefetch = prefetch;
      auto h = bus::open_amqp_queue(o);
      EXPECT_TRUE(h.ok()) << h.status().to_string();
      if (!h.ok()) return nullptr;
      handles.push_back(std::move(*h));
      q = handles.back().get();
    }
    auto f = std::make_unique<QueueFeed>(
        t, *q, QueueFeed::Options{.sweep_every = 100ms, .sweep_after = 0ms});
    f->start();
    return f;
  }
  void tear_down() {
    handles.clear();
    queue.reset();
  }
  int64_t dead_letters() {
    auto d = queue->depth();
    return d.ok() ? d->dead : -1;
  }
  bus::AmqpOptions options;
  std::unique_ptr<bus::Queue> queue;
  std::vector<std::unique_ptr<bus::Queue>> handles;  // of feeds with another prefetch
};

template <typename Store, typename Queue>
struct On {
  using Backend = Store;
  using Carrier = Queue;
};

template <typename Config>
class FeedSuite : public TaskSuite<typename Config::Backend> {
 protected:
  void SetUp() override {
    TaskSuite<typename Config::Backend>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    queue_.set_up();
  }
  void TearDown() override {
    feeds_.clear();
    queue_.tear_down();
    TaskSuite<typename Config::Backend>::TearDown();
  }
  TaskFeed& new_feed(int prefetch = 1) {
    feeds_.push_back(queue_.feed(*this->tasks_, prefetch));
    return *feeds_.back();
  }
  // Submits and hands the task to `feed` as a serving node does.
  Task submit(TaskFeed& feed, int64_t cost) {
    auto r = this->tasks_->submit(this->new_task(cost));
    EXPECT_TRUE(r.ok() && r->ok);
    if (!r.ok() || !r->ok) return {};
    feed.submitted(r->task);
    return r->task;
  }
  // The next task `owner` is given within 5 s (none: the test fails).
  std::optional<Task> take(TaskFeed& feed, const std::string& owner) {
    for (int i = 0; i < 250; ++i) {
      auto t = feed.next(owner, 20ms);
      EXPECT_TRUE(t.ok()) << t.status().to_string();
      if (t.ok() && *t) return *t;
    }
    ADD_FAILURE() << owner << " was given no task within 5 s";
    return std::nullopt;
  }
  int64_t open_tasks() {
    auto rows =
        this->db_->query("SELECT COUNT(*) FROM tasks WHERE status IN ('queued', 'running')");
    return rows.ok() ? rows->get_int(0, 0) : -1;
  }

  typename Config::Carrier queue_;
  std::vector<std::unique_ptr<TaskFeed>> feeds_;
};

TYPED_TEST_SUITE_P(FeedSuite);

// A worker that dies mid-task leaves it to another, which finishes it: done once, charged once.
// A task whose workers die max_attempts times is failed as poison, its hold released (on
// RabbitMQ its message is dead-lettered).
TYPED_TEST_P(FeedSuite, ADeadWorkersTaskIsFinishedOnceByAnotherAndPoisonIsFailed) {
  ASSERT_TRUE(this->ledger_->adjust(this->user_, 1'000, "top-up", 0).ok());
  TaskFeed& node = this->new_feed();
  const Task a = this->submit(node, 300);
  {
    auto dying = this->queue_.feed(*this->tasks_);
    auto got = this->take(*dying, "w1");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->id, a.id);
    EXPECT_EQ(got->attempts, 1);
  }                           // SIGKILL: never settled
  this->clock_ms_ += 31'000;  // the embedded queue waits for the lease to run out
  auto again = this->take(node, "w2");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, a.id);
  EXPECT_EQ(again->attempts, 2);
  ASSERT_TRUE(*this->tasks_->finish(a.id, Outcome::kDone, R"({"predictions":[1]})"));
  node.settled("w2", *again, true);
  EXPECT_EQ(this->tasks_->get(a.id)->status, TaskStatus::kDone);
  EXPECT_EQ(this->account().balance, 700);

  const Task b = this->submit(node, 200);
  for (int life = 0; life < 2; ++life) {  // max_attempts 2
    auto dying = this->queue_.feed(*this->tasks_);
    auto got = this->take(*dying, "d" + std::to_string(life));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->id, b.id);
    this->clock_ms_ += 31'000;
  }
  for (int i = 0; i < 50 && this->tasks_->get(b.id)->status != TaskStatus::kFailed; ++i) {
    auto none = node.next("w3", 20ms);  // the third delivery finds it poison
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(*none);
  }
  auto poison = this->tasks_->get(b.id);
  EXPECT_EQ(poison->status, TaskStatus::kFailed);
  EXPECT_NE(poison->error.find("given up after 2 attempts"), std::string::npos) << poison->error;
  EXPECT_EQ(this->account().held, 0);
  EXPECT_EQ(this->account().balance, 700);
  EXPECT_EQ(this->ledger_sum(), 700);
  if constexpr (std::is_same_v<typename TypeParam::Carrier, RabbitQueue>) {
    int64_t dead = 0;
    for (int i = 0; i < 50 && (dead = this->queue_.dead_letters()) == 0; ++i) {
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(dead, 1);
  }
}

// Submitters (some with Idempotency-Keys), cancellers and workers taking tasks through the queue
// all at once on one account, with random failures and completions delivered twice: every task
// ends, the balance is the top-up minus the cost of the tasks that are done, it equals the
// ledger's sum, nothing is held, and no task was charged twice.
TYPED_TEST_P(FeedSuite, ConcurrentSubmitsThroughTheQueueStayExact) {
  auto& t = *this->tasks_;
  constexpr int64_t kInitial = 150'000;
  ASSERT_TRUE(this->ledger_->adjust(this->user_, kInitial, "top-up", 0).ok());
  constexpr int kSubmitters = 3, kWorkers = 3, kPerSubmitter = 400;
  TaskFeed& node = this->new_feed(4);  // RabbitMQ: each consumer holds up to 4 messages
  std::atomic<int> submitted{0}, errors{0}, ran{0};
  std::atomic<bool> submitting{true};
  std::mutex what_mu;
  std::vector<std::string> what;  // the first errors, to say what went wrong
  const auto error = [&](std::string w) {
    ++errors;
    std::lock_guard lock(what_mu);
    if (what.size() < 5) what.push_back(std::move(w));
  };
  std::vector<std::thread> threads;
  for (int s = 0; s < kSubmitters; ++s) {
    threads.emplace_back([&, s] {
      std::mt19937 rng(100 + s);
      for (int i = 0; i < kPerSubmitter; ++i) {
        auto r = t.submit(this->new_task(
            1 + rng() % 500, rng() % 4 == 0 ? "k" + std::to_string(s * 10000 + i / 2) : ""));
        if (!r.ok()) {
          error("submit: " + r.status().to_string());
          continue;
        }
        if (!r->ok) continue;
        if (!r->repeat) node.submitted(r->task);
        ++submitted;
        if (rng() % 5 == 0) {
          auto c = t.cancel(r->task.id);  // may already be running: a conflict is fine
          if (!c.ok() && c.status().code() != ErrorCode::kConflict) {
            error("cancel: " + c.status().to_string());
          }
        }
      }
    });
  }
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(200 + w);
      const std::string me = "w" + std::to_string(w);
      for (;;) {
        // Worker 0 takes one task at a time; the others up to 4 (one claim transaction).
        auto c = node.next_many(me, 20ms, w == 0 ? 1 : 4);
        if (!c.ok()) {
          error("next: " + c.status().to_string());
          continue;
        }
        if (c->empty()) {
          if (!submitting && this->open_tasks() == 0) break;
          continue;
        }
        for (const Task& task : *c) {
          ++ran;
          if (task.lease_owner != me || task.status != TaskStatus::kRunning) {
            error(me + " was given task " + std::to_string(task.id) + " of " + task.lease_owner);
          }
          const int roll = static_cast<int>(rng() % 10);
          const Outcome o = roll < 7   ? Outcome::kDone
                            : roll < 9 ? Outcome::kFailed
                                       : Outcome::kRejected;
          auto f = t.finish(task.id, o, o == Outcome::kDone ? "{}" : "no");
          if (!f.ok() || !*f) {
            error("finish " + std::to_string(task.id) + ": " +
                  (f.ok() ? "already finished" : f.status().to_string()));
          }
          node.settled(me, task, true);
          if (rng() % 4 == 0) {  // delivered again after it finished: changes nothing
            auto again = t.finish(task.id, Outcome::kDone, "{}");
            if (!again.ok() || *again) error("finishing again " + std::to_string(task.id));
          }
        }
      }
    });
  }
  for (int s = 0; s < kSubmitters; ++s) threads[s].join();
  submitting = false;
  for (size_t i = kSubmitters; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(errors.load(), 0) << ::testing::PrintToString(what);
  EXPECT_GT(submitted.load(), 500);
  EXPECT_GT(ran.load(), 300);

  auto sums = this->db_->query(
      "SELECT COALESCE(SUM(CASE WHEN status = 'done' THEN cost ELSE 0 END), 0), "
      "SUM(CASE WHEN status IN ('queued', 'running') THEN 1 ELSE 0 END), "
      "SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END) FROM tasks");
  ASSERT_TRUE(sums.ok());
  const int64_t charged = sums->get_int(0, 0);
  EXPECT_EQ(sums->get_int(0, 1), 0) << "every task ends";
  EXPECT_EQ(sums->get_int(0, 2), 0) << "no task ran twice while its worker lived";
  auto a = this->account();
  EXPECT_EQ(a.held, 0);
  EXPECT_EQ(a.balance, kInitial - charged);
  EXPECT_EQ(this->ledger_sum(), a.balance);
  auto twice = this->db_->query(
      "SELECT COUNT(*) FROM (SELECT task_id FROM credit_ledger WHERE task_id IS NOT NULL GROUP "
      "BY task_id HAVING COUNT(*) > 1) x");
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->get_int(0, 0), 0) << "no task charged twice";
  EXPECT_EQ(this->queue_.dead_letters(), 0);
}

// A task stored whose message was never sent (its node died between the two) is found by a
// sweep and run.
TYPED_TEST_P(FeedSuite, ATaskWhoseMessageWasNeverSentIsStillRun) {
  ASSERT_TRUE(this->ledger_->adjust(this->user_, 1'000, "top-up", 0).ok());
  auto r = this->tasks_->submit(this->new_task(100));  // no submitted(): the node died
  ASSERT_TRUE(r.ok() && r->ok);
  TaskFeed& node = this->new_feed();
  auto got = this->take(node, "w1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, r->task.id);
  ASSERT_TRUE(*this->tasks_->finish(got->id, Outcome::kDone, "{}"));
  node.settled("w1", *got, true);
  EXPECT_EQ(this->account().balance, 900);
}

REGISTER_TYPED_TEST_SUITE_P(FeedSuite, ADeadWorkersTaskIsFinishedOnceByAnotherAndPoisonIsFailed,
                            ConcurrentSubmitsThroughTheQueueStayExact,
                            ATaskWhoseMessageWasNeverSentIsStillRun);

}  // namespace vigil::tasks::testing
