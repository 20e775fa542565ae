#include "bus/memory_queue.h"

#include <gtest/gtest.h>

namespace vigil::bus {
namespace {

using namespace std::chrono_literals;

TEST(MemoryQueueTest, DeliversAcknowledgesAndRedeliversWhatAGoneConsumerHeld) {
  auto q = MemoryQueue::make();
  ASSERT_TRUE(q->publish({"1", "2"}).ok());
  {
    auto a = q->consumer();
    auto d = a->next(10ms);
    ASSERT_TRUE(d.ok() && *d);
    EXPECT_EQ((*d)->body, "1");
    auto held = a->next(10ms);  // prefetch 1
    ASSERT_TRUE(held.ok());
    EXPECT_FALSE(*held);
  }
  auto b = q->consumer();
  auto again = b->next(10ms);
  ASSERT_TRUE(again.ok() && *again);
  EXPECT_EQ((*again)->body, "1");
  EXPECT_TRUE((*again)->redelivered);
  ASSERT_TRUE(b->reject(**again, false).ok());
  EXPECT_EQ(q->dead_letters(), std::vector<std::string>{"1"});
  auto two = b->next(10ms);
  ASSERT_TRUE(two.ok() && *two);
  EXPECT_EQ((*two)->body, "2");
  EXPECT_FALSE((*two)->redelivered);
  ASSERT_TRUE(b->ack(**two).ok());
  EXPECT_EQ(q->depth()->waiting, 0);
  EXPECT_EQ(q->depth()->dead, 1);
}

TEST(MemoryQueueTest, UnreachableGivesBackWhatConsumersHeldAndIgnoresTheirLateAcks) {
  auto q = MemoryQueue::make();
  ASSERT_TRUE(q->publish({"t"}).ok());
  auto c = q->consumer();
  auto d = c->next(10ms);
  ASSERT_TRUE(d.ok() && *d);
  q->set_reachable(false);
  EXPECT_FALSE(q->ready());
  EXPECT_EQ(q->publish({"u"}).code(), ErrorCode::kUnavailable);
  EXPECT_EQ(c->next(10ms).status().code(), ErrorCode::kUnavailable);
  q->set_reachable(true);
  auto again = c->next(10ms);
  ASSERT_TRUE(again.ok() && *again);
  EXPECT_TRUE((*again)->redelivered);
  EXPECT_TRUE(c->ack(**d).ok());  // the old session's ack changes nothing
  EXPECT_EQ(q->depth()->waiting, 0);
  ASSERT_TRUE(c->ack(**again).ok());
}

}  // namespace
}  // namespace vigil::bus
