// Ledger's behaviour suite, run on SQLite (ledger_test.cpp) and PostgreSQL (ledger_pgtest.cpp):
// top-ups and corrections, charges, holds settled exactly once, and exact balances after
// thousands of concurrent charges, holds, charges of holds and releases.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <thread>

#include "support/backends.h"
#include "tasks/ledger.h"

namespace vigil::tasks::testing {

template <typename Backend>
class LedgerSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.set_up();
    if (IsSkipped() || HasFatalFailure()) return;
    vigil::testing::open_migrated(backend_.url(), 6, db_);
    if (HasFatalFailure()) return;
    ledger_ = std::make_unique<Ledger>(*db_);
    alice_ = add_user("alice@example.com");
    admin_ = add_user("admin@example.com");
  }
  void TearDown() override {
    ledger_.reset();
    db_.reset();
    backend_.tear_down();
  }

  int64_t add_user(const std::string& email) {
    auto rows = db_->query(
        "INSERT INTO users (email, email_key, password_hash, role, created_at, updated_at) "
        "VALUES ($1, $1, 'x', 'user', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z') "
        "RETURNING id",
        {email});
    EXPECT_TRUE(rows.ok()) << rows.status().to_string();
    return rows.ok() ? rows->get_int(0, 0) : 0;
  }
  // The sum of the user's ledger entries.
  int64_t ledger_sum(int64_t user) {
    auto rows =
        db_->query("SELECT COALESCE(SUM(amount), 0) FROM credit_ledger WHERE user_id = $1", {user});
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? rows->get_int(0, 0) : -1;
  }
  Expected<Taken> hold(int64_t user, int64_t task, int64_t cost) {
    return store::write_returning<Taken>(
        *db_, [&](store::Session& s) { return ledger_->hold_in(s, user, task, cost); });
  }
  Expected<bool> settle(int64_t task, Settle how) {
    return store::write_returning<bool>(*db_, [&](store::Session& s) {
      return ledger_->settle_in(s, task, how, "task " + std::to_string(task));
    });
  }

  Backend backend_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<Ledger> ledger_;
  int64_t alice_ = 0;
  int64_t admin_ = 0;
};

TYPED_TEST_SUITE_P(LedgerSuite);

TYPED_TEST_P(LedgerSuite, TopUpsChargesAndCorrectionsEachWriteAnEntry) {
  auto& l = *this->ledger_;
  const int64_t alice = this->alice_;
  auto empty = l.account(alice);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->balance, 0);
  EXPECT_EQ(l.account(99999).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(l.adjust(alice, 0, "nothing", this->admin_).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(l.adjust(99999, 5, "x", this->admin_).status().code(), ErrorCode::kNotFound);

  auto top = l.adjust(alice, 10'000, "welcome", this->admin_);
  ASSERT_TRUE(top.ok()) << top.status().to_string();
  EXPECT_EQ(top->balance_after, 10'000);
  EXPECT_EQ(top->by_user, this->admin_);
  auto c = l.charge(alice, 2'500, "predict m:1, 5 rows");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->ok);
  EXPECT_EQ(c->account.balance, 7'500);
  auto short_of = l.charge(alice, 7'501, "too much");
  ASSERT_TRUE(short_of.ok());
  EXPECT_FALSE(short_of->ok);
  EXPECT_EQ(short_of->account.balance, 7'500);  // nothing taken
  EXPECT_EQ(short_of->cost, 7'501);
  auto free = l.charge(alice, 0, "free model");
  ASSERT_TRUE(free.ok());
  EXPECT_TRUE(free->ok);

  EXPECT_EQ(l.adjust(alice, -7'501, "too big a correction", this->admin_).status().code(),
            ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(l.adjust(alice, -500, "refund reversed", this->admin_).ok());

  auto entries = l.entries(alice, 10);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);  // newest first; the free charge and refusals wrote nothing
  EXPECT_EQ((*entries)[0].amount, -500);
  EXPECT_EQ((*entries)[0].balance_after, 7'000);
  EXPECT_EQ((*entries)[1].reason, "predict m:1, 5 rows");
  EXPECT_FALSE((*entries)[1].by_user);
  auto older = l.entries(alice, 10, (*entries)[1].id);
  ASSERT_TRUE(older.ok());
  ASSERT_EQ(older->size(), 1u);
  EXPECT_EQ((*older)[0].reason, "welcome");
  EXPECT_EQ(this->ledger_sum(alice), 7'000);
}

TYPED_TEST_P(LedgerSuite, AHoldIsSetAsideAndSettlesExactlyOnce) {
  auto& l = *this->ledger_;
  const int64_t alice = this->alice_;
  ASSERT_TRUE(l.adjust(alice, 1'000, "top-up", this->admin_).ok());
  auto h = this->hold(alice, 1, 600);
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  EXPECT_TRUE(h->ok);
  EXPECT_EQ(h->account.held, 600);
  EXPECT_EQ(h->account.available(), 400);
  // What is held cannot be charged, held again or corrected away.
  auto c = l.charge(alice, 401, "sync");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->ok);
  auto h2 = this->hold(alice, 2, 401);
  ASSERT_TRUE(h2.ok());
  EXPECT_FALSE(h2->ok);
  EXPECT_EQ(l.adjust(alice, -401, "x", this->admin_).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(this->hold(alice, 1, 1).status().code(), ErrorCode::kAlreadyExists);

  auto once = this->settle(1, Settle::kCharge);
  ASSERT_TRUE(once.ok()) << once.status().to_string();
  EXPECT_TRUE(*once);
  auto twice = this->settle(1, Settle::kCharge);
  ASSERT_TRUE(twice.ok());
  EXPECT_FALSE(*twice);  // a redelivered completion charges nothing
  EXPECT_FALSE(*this->settle(1, Settle::kRelease));
  auto a = l.account(alice);
  EXPECT_EQ(a->balance, 400);
  EXPECT_EQ(a->held, 0);
  auto entries = l.entries(alice, 1);
  EXPECT_EQ((*entries)[0].task_id, 1);
  EXPECT_EQ((*entries)[0].amount, -600);

  ASSERT_TRUE(this->hold(alice, 3, 400)->ok);
  EXPECT_TRUE(*this->settle(3, Settle::kRelease));
  EXPECT_EQ(l.account(alice)->balance, 400);  // released: nothing charged, no entry
  EXPECT_EQ(l.account(alice)->held, 0);
  EXPECT_FALSE(*this->settle(42, Settle::kCharge));  // no hold (a free task)
  EXPECT_EQ(this->ledger_sum(alice), 400);
}

// Threads submit (hold), complete (charge, sometimes twice: a redelivery), fail or cancel
// (release), and charge synchronously, all at once on one account. Nothing is lost or taken
// twice: the balance is the initial credit minus what was charged, equals the ledger's sum, and
// never went negative.
TYPED_TEST_P(LedgerSuite, ConcurrentHoldsChargesAndReleasesStayExact) {
  auto& l = *this->ledger_;
  const int64_t alice = this->alice_;
  constexpr int64_t kInitial = 200'000;
  ASSERT_TRUE(l.adjust(alice, kInitial, "top-up", this->admin_).ok());
  constexpr int kThreads = 6;
  constexpr int kOps = 300;  // per thread
  std::atomic<int64_t> charged{0}, refused{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      for (int i = 0; i < kOps; ++i) {
        const int64_t task = int64_t{t} * 1'000'000 + i + 1;
        const int64_t cost = 1 + static_cast<int64_t>(rng() % 1'000);
        if (rng() % 4 == 0) {
          auto c = l.charge(alice, cost, "sync");
          if (!c.ok())
            ++errors;
          else if (c->ok)
            charged += cost;
          else
            ++refused;
          continue;
        }
        auto h = this->hold(alice, task, cost);
        if (!h.ok()) {
          ++errors;
          continue;
        }
        if (!h->ok) {
          ++refused;
          continue;
        }
        const bool success = rng() % 3 != 0;
        auto s = this->settle(task, success ? Settle::kCharge : Settle::kRelease);
        if (!s.ok() || !*s) ++errors;
        if (success) charged += cost;
        if (rng() % 5 == 0) {  // delivered again: settles nothing
          auto again = this->settle(task, Settle::kCharge);
          if (!again.ok() || *again) ++errors;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  auto a = l.account(alice);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->held, 0);
  EXPECT_EQ(a->balance, kInitial - charged.load());
  EXPECT_GE(a->balance, 0);
  EXPECT_EQ(this->ledger_sum(alice), a->balance);
  EXPECT_GT(refused.load(), 0) << "the run should have run the account dry";
}

REGISTER_TYPED_TEST_SUITE_P(LedgerSuite, TopUpsChargesAndCorrectionsEachWriteAnEntry,
                            AHoldIsSetAsideAndSettlesExactlyOnce,
                            ConcurrentHoldsChargesAndReleasesStayExact);

}  // namespace vigil::tasks::testing
