// AmqpQueue against a real RabbitMQ (tests/support/rabbit_server.h: Debian's rabbitmq-server on
// loopback, in a temp dir; skipped loudly when it is not installed).
#include "bus/amqp_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "support/ports.h"
#include "support/rabbit_server.h"

namespace vigil::bus {
namespace {

using namespace std::chrono_literals;

std::string fresh_name() {
  static std::atomic<int> n{0};
  return "test." + std::to_string(::getpid()) + "." + std::to_string(++n);
}

class AmqpQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    VIGIL_RABBIT_SERVER_OR_SKIP(server);
    server_ = server;
    if (!server_->running()) {
      std::string error;
      ASSERT_TRUE(server_->restart(&error)) << error;
    }
    options_.url = server_->url();
    options_.name = fresh_name();
    options_.timeout = 5s;
    options_.max_backoff = 500ms;
  }
  std::unique_ptr<Queue> open(AmqpOptions o) {
    auto q = open_amqp_queue(o);
    EXPECT_TRUE(q.ok()) << q.status().to_string();
    return q.ok() ? std::move(*q) : nullptr;
  }
  std::unique_ptr<Queue> open() { return open(options_); }

  // The next delivery within 5 s (fails the test when none).
  static Delivery take(Consumer& c) {
    for (int i = 0; i < 50; ++i) {
      auto d = c.next(100ms);
      if (d.ok() && *d) return **d;
    }
    ADD_FAILURE() << "no delivery within 5 s";
    return {};
  }

  testing::RabbitServer* server_ = nullptr;
  AmqpOptions options_;
};

TEST_F(AmqpQueueTest, PublishesConfirmedAndDeliversInOrderUntilAcknowledged) {
  auto q = open();
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->ready());
  ASSERT_TRUE(q->publish({"1", "2", "3"}).ok());
  auto depth = q->depth();
  ASSERT_TRUE(depth.ok()) << depth.status().to_string();
  EXPECT_EQ(depth->waiting, 3);
  EXPECT_EQ(depth->dead, 0);
  auto c = q->consumer();
  for (const char* want : {"1", "2", "3"}) {
    Delivery d = take(*c);
    EXPECT_EQ(d.body, want);
    EXPECT_FALSE(d.redelivered);
    ASSERT_TRUE(c->ack(d).ok());
  }
  auto none = c->next(200ms);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
  EXPECT_EQ(q->depth()->waiting, 0);
  EXPECT_NE(q->describe().find(options_.name), std::string::npos);
}

TEST_F(AmqpQueueTest, WhatAConsumerHeldUnacknowledgedGoesToAnotherMarkedRedelivered) {
  auto q = open();
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->publish({"a"}).ok());
  {
    auto first = q->consumer();
    Delivery d = take(*first);
    EXPECT_EQ(d.body, "a");
    // Gone without an ack: its connection closes, as when a worker process dies.
  }
  auto second = q->consumer();
  Delivery again = take(*second);
  EXPECT_EQ(again.body, "a");
  EXPECT_TRUE(again.redelivered);
  EXPECT_TRUE(second->reject(again, true).ok());  // back once more
  Delivery third = take(*second);
  EXPECT_EQ(third.body, "a");
  EXPECT_TRUE(second->ack(third).ok());
}

TEST_F(AmqpQueueTest, PrefetchBoundsWhatOneConsumerHolds) {
  auto q = open();
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->publish({"x", "y"}).ok());
  auto a = q->consumer();
  auto b = q->consumer();
  Delivery first = take(*a);
  // a holds one unacknowledged (prefetch 1): the other message can only go to b.
  auto more = a->next(300ms);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  Delivery second = take(*b);
  EXPECT_NE(first.body, second.body);
  EXPECT_TRUE(a->ack(first).ok());
  EXPECT_TRUE(b->ack(second).ok());
}

TEST_F(AmqpQueueTest, RejectedWithoutRequeueIsKeptAsADeadLetter) {
  auto q = open();
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->publish({"poison"}).ok());
  auto c = q->consumer();
  Delivery d = take(*c);
  ASSERT_TRUE(c->reject(d, false).ok());
  for (int i = 0; i < 50 && q->depth()->dead == 0; ++i) std::this_thread::sleep_for(20ms);
  auto depth = q->depth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->dead, 1);
  EXPECT_EQ(depth->waiting, 0);
}

TEST_F(AmqpQueueTest, ManyPublishersAtOnceAreEachConfirmed) {
  auto q = open();
  ASSERT_TRUE(q);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::vector<std::string> batch;
        for (int k = 0; k < 5; ++k) batch.push_back(std::to_string(t * 1000 + i * 5 + k));
        if (!q->publish(batch).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto c = q->consumer();
  std::set<std::string> got;
  while (got.size() < 1000) {
    auto d = c->next(2s);
    ASSERT_TRUE(d.ok() && *d) << "after " << got.size();
    got.insert((*d)->body);
    ASSERT_TRUE(c->ack(**d).ok());
  }
  EXPECT_EQ(got.size(), 1000u);
}

TEST_F(AmqpQueueTest, UnreachableBrokerAnswersUnavailableAtOnceThenRecovers) {
  AmqpOptions o = options_;
  o.url = "amqp://guest:guest@127.0.0.1:" + std::to_string(testing::free_loopback_port()) + "/";
  o.timeout = 1s;
  auto q = open(o);
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->ready());
  Status s = q->publish({"1"});
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.message().find("unreachable"), std::string::npos) << s.message();
  auto c = q->consumer();
  EXPECT_EQ(c->next(50ms).status().code(), ErrorCode::kUnavailable);
}

TEST_F(AmqpQueueTest, ConfirmedMessagesSurviveABrokerRestartAndClientsReconnect) {
  auto q = open();
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->publish({"before"}).ok());
  auto c = q->consumer();
  ASSERT_TRUE(c->next(10ms).ok());  // connected and consuming
  ASSERT_TRUE(server_->stop());
  EXPECT_FALSE(q->ready());
  EXPECT_EQ(q->publish({"meanwhile"}).code(), ErrorCode::kUnavailable);
  std::string error;
  ASSERT_TRUE(server_->restart(&error)) << error;
  // Both sides come back by themselves once their back-off has passed.
  bool ready = false;
  for (int i = 0; i < 100 && !ready; ++i) {
    ready = q->ready();
    if (!ready) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(ready);
  ASSERT_TRUE(q->publish({"after"}).ok());
  std::set<std::string> got;
  for (int i = 0; i < 200 && got.size() < 2; ++i) {
    auto d = c->next(100ms);
    if (d.ok() && *d) {
      got.insert((*d)->body);
      EXPECT_TRUE(c->ack(**d).ok());
    }
  }
  EXPECT_EQ(got, (std::set<std::string>{"before", "after"}));
}

TEST(AmqpOptionsTest, BadUrlsAreRefusedNamingTheSetting) {
  for (const char* url : {"http://x", "amqps://h/", "amqp://h:notaport/"}) {
    auto q = open_amqp_queue(AmqpOptions{.url = url});
    ASSERT_FALSE(q.ok()) << url;
    EXPECT_EQ(q.status().code(), ErrorCode::kInvalidArgument) << url;
    EXPECT_EQ(q.status().field(), "queue.url") << url;
  }
  auto ok = open_amqp_queue(AmqpOptions{.url = "amqp://u:p@localhost:5999/v"});
  EXPECT_TRUE(ok.ok());
  auto zero = open_amqp_queue(AmqpOptions{.url = "amqp://h/", .prefetch = 0});
  EXPECT_EQ(zero.status().field(), "queue.prefetch");
}

TEST(AmqpOptionsTest, RedactsThePassword) {
  EXPECT_EQ(redact_amqp_url("amqp://vigil:s3cret@mq:5672/prod"), "amqp://vigil:***@mq:5672/prod");
  EXPECT_EQ(redact_amqp_url("amqp://mq:5672/"), "amqp://mq:5672/");
  EXPECT_EQ(redact_amqp_url("amqp://vigil@mq/"), "amqp://vigil@mq/");
}

}  // namespace
}  // namespace vigil::bus
