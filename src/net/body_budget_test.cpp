#include "net/body_budget.h"

#include <gtest/gtest.h>

namespace vigil::net {
namespace {

using Refusal = BodyBudget::Refusal;

TEST(BodyBudgetTest, ServerAndClientSharesAreBoundedAndReleased) {
  BodyBudget budget(100, 60);
  auto a1 = budget.open("a");
  EXPECT_EQ(a1.grow(50), Refusal::kNone);
  auto a2 = budget.open("a");
  EXPECT_EQ(a2.grow(11), Refusal::kClient);  // a would hold 61 > 60
  EXPECT_EQ(a2.grow(10), Refusal::kNone);
  auto b = budget.open("b");
  EXPECT_EQ(b.grow(41), Refusal::kServer);  // the server would hold 101 > 100
  EXPECT_EQ(b.grow(40), Refusal::kNone);
  EXPECT_EQ(budget.server_bytes(), 100u);
  EXPECT_EQ(budget.client_bytes("a"), 60u);
  a1.release();
  EXPECT_EQ(budget.server_bytes(), 50u);
  EXPECT_EQ(budget.client_bytes("a"), 10u);
  {
    auto moved = std::move(b);
    EXPECT_EQ(b.bytes(), 0u);
    EXPECT_EQ(moved.bytes(), 40u);
  }
  EXPECT_EQ(budget.server_bytes(), 10u);
  EXPECT_EQ(budget.client_bytes("b"), 0u);
}

TEST(BodyBudgetTest, HugeRequestsDoNotOverflow) {
  BodyBudget budget(100, 60);
  auto r = budget.open("a");
  EXPECT_EQ(r.grow(SIZE_MAX), Refusal::kClient);
  EXPECT_EQ(r.grow(99), Refusal::kClient);
  BodyBudget generous_clients(100, 1000);
  auto g = generous_clients.open("a");
  EXPECT_EQ(g.grow(SIZE_MAX), Refusal::kClient);
  EXPECT_EQ(g.grow(101), Refusal::kServer);
  EXPECT_EQ(budget.server_bytes(), 0u);
  EXPECT_EQ(budget.client_bytes("a"), 0u);
}

}  // namespace
}  // namespace vigil::net
