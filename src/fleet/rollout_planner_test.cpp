#include "fleet/rollout_planner.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace vigil::fleet {
namespace {

using namespace std::chrono_literals;
using S = DeviceState;

const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(24 * 365 * 50);

// A fleet of n online pending devices in waves for `limits`, and the loop a rollout service
// runs: plan, apply the decision, let time pass.
struct Sim {
  explicit Sim(size_t n, RolloutLimits l) : limits(l), planner(l) {
    auto waves = assign_waves(n, l);
    for (size_t i = 0; i < n; ++i) {
      DeviceView d;
      d.id = static_cast<int64_t>(i + 1);
      d.wave = waves[i];
      d.online = true;
      devices.push_back(d);
    }
  }

  Decision step() {
    Decision d = planner.plan(state, devices, now);
    for (const auto& c : d.devices) {
      DeviceView& dev = at(c.id);
      dev.state = c.to;
      if (c.to == S::kSent) dev.sent_at = now;
    }
    if (d.rollout) state = *d.rollout;
    return d;
  }
  void report(int64_t id, S s) {
    auto next = after_report(at(id).state, s);
    ASSERT_TRUE(next.has_value()) << id << " " << to_string(s);
    at(id).state = *next;
  }
  DeviceView& at(int64_t id) { return devices[static_cast<size_t>(id - 1)]; }
  int count(S s) const {
    return static_cast<int>(std::count_if(devices.begin(), devices.end(),
                                          [&](const DeviceView& d) { return d.state == s; }));
  }

  RolloutLimits limits;
  RolloutPlanner planner;
  std::vector<DeviceView> devices;
  RolloutState state = RolloutState::kRunning;
  Clock::time_point now = t0;
};

TEST(RolloutPlannerTest, WavesAreACanaryThenBatches) {
  RolloutLimits l;
  l.canary_percent = 10;
  l.batch_size = 4;
  EXPECT_EQ(assign_waves(10, l), (std::vector<int>{0, 1, 1, 1, 1, 2, 2, 2, 2, 3}));
  EXPECT_EQ(assign_waves(3, l), (std::vector<int>{0, 1, 1}));  // a canary of at least one
  l.canary_percent = 0;
  EXPECT_EQ(assign_waves(5, l), (std::vector<int>{1, 1, 1, 1, 2}));
  EXPECT_TRUE(assign_waves(0, l).empty());
}

TEST(RolloutPlannerTest, TheCanaryGoesFirstAndTheNextWaveWaitsForIt) {
  RolloutLimits l;
  l.canary_percent = 10;
  l.batch_size = 5;
  Sim sim(10, l);
  auto d = sim.step();
  EXPECT_EQ(d.send, (std::vector<int64_t>{1}));  // the canary alone
  EXPECT_FALSE(d.rollout);
  EXPECT_TRUE(sim.step().send.empty());  // nothing more while it is in flight
  sim.report(1, S::kDownloading);
  sim.report(1, S::kApplied);
  EXPECT_TRUE(sim.step().send.empty());
  sim.report(1, S::kConfirmed);
  EXPECT_EQ(sim.step().send, (std::vector<int64_t>{2, 3, 4, 5, 6}));
  for (int64_t id = 2; id <= 6; ++id) sim.report(id, S::kConfirmed);
  EXPECT_EQ(sim.step().send, (std::vector<int64_t>{7, 8, 9, 10}));
  for (int64_t id = 7; id <= 10; ++id) sim.report(id, S::kConfirmed);
  auto done = sim.step();
  EXPECT_EQ(done.rollout, RolloutState::kCompleted);
  EXPECT_EQ(sim.count(S::kConfirmed), 10);
}

TEST(RolloutPlannerTest, ReportsMoveOnlyForward) {
  EXPECT_EQ(after_report(S::kSent, S::kApplied), S::kApplied);
  EXPECT_EQ(after_report(S::kApplied, S::kConfirmed), S::kConfirmed);
  EXPECT_EQ(after_report(S::kDownloading, S::kFailed), S::kFailed);
  EXPECT_FALSE(after_report(S::kApplied, S::kDownloading));
  EXPECT_FALSE(after_report(S::kConfirmed, S::kFailed));   // final stays final
  EXPECT_FALSE(after_report(S::kPending, S::kConfirmed));  // never sent: nothing to answer
  EXPECT_FALSE(after_report(S::kSent, S::kSkipped));       // not a state a device reports
  EXPECT_FALSE(after_report(S::kTimedOut, S::kConfirmed));
}

TEST(RolloutPlannerTest, OfflineDevicesWaitWithoutHoldingUpTheRest) {
  RolloutLimits l;
  l.canary_percent = 0;
  l.batch_size = 2;
  Sim sim(4, l);
  sim.at(1).online = false;
  EXPECT_EQ(sim.step().send, (std::vector<int64_t>{2}));
  sim.report(2, S::kConfirmed);
  EXPECT_EQ(sim.step().send, (std::vector<int64_t>{3, 4}));  // device 1 does not block wave 2
  sim.report(3, S::kConfirmed);
  sim.report(4, S::kConfirmed);
  EXPECT_FALSE(sim.step().rollout);  // not complete while device 1 is pending
  sim.at(1).online = true;           // it connects
  EXPECT_EQ(sim.step().send, (std::vector<int64_t>{1}));
  sim.report(1, S::kConfirmed);
  EXPECT_EQ(sim.step().rollout, RolloutState::kCompleted);
}

TEST(RolloutPlannerTest, DevicesThatNeedNothingAreSkipped) {
  RolloutLimits l;
  l.canary_percent = 0;
  Sim sim(3, l);
  sim.at(1).runs_target = true;
  sim.at(2).has_target = false;
  sim.at(3).selected = false;
  auto d = sim.step();
  EXPECT_TRUE(d.send.empty());
  ASSERT_EQ(d.devices.size(), 3u);
  EXPECT_EQ(d.devices[0].reason, "already runs the target");
  EXPECT_EQ(d.devices[1].reason, "has no previous model to go back to");
  EXPECT_EQ(d.devices[2].reason, "left the rollout's selection");
  EXPECT_EQ(d.rollout, RolloutState::kCompleted);
}

TEST(RolloutPlannerTest, RateLimitsSendsPerMinuteAndSaysWhenToComeBack) {
  RolloutLimits l;
  l.canary_percent = 0;
  l.batch_size = 100;
  l.rate_per_minute = 3;
  Sim sim(7, l);
  auto d = sim.step();
  EXPECT_EQ(d.send.size(), 3u);
  ASSERT_TRUE(d.wake_at);
  EXPECT_EQ(*d.wake_at, t0 + 60s);
  sim.now = t0 + 59s;
  EXPECT_TRUE(sim.step().send.empty());
  sim.now = t0 + 60s;
  EXPECT_EQ(sim.step().send.size(), 3u);
  sim.now = t0 + 61s;
  EXPECT_TRUE(sim.step().send.empty());
  sim.now = t0 + 120s;
  EXPECT_EQ(sim.step().send, (std::vector<int64_t>{7}));
}

TEST(RolloutPlannerTest, DevicesNotConfirmedInTimeTimeOut) {
  RolloutLimits l;
  l.canary_percent = 0;
  l.device_timeout = 300s;
  l.min_sample = 10;  // no halt here
  Sim sim(2, l);
  auto d = sim.step();
  EXPECT_EQ(*d.wake_at, t0 + 300s);
  sim.report(1, S::kApplied);
  sim.now = t0 + 299s;
  EXPECT_TRUE(sim.step().devices.empty());
  sim.report(2, S::kConfirmed);
  sim.now = t0 + 300s;
  d = sim.step();
  ASSERT_EQ(d.devices.size(), 1u);
  EXPECT_EQ(d.devices[0].to, S::kTimedOut);
  EXPECT_EQ(d.rollout, RolloutState::kCompleted);
}

TEST(RolloutPlannerTest, FailuresHaltOnceTheSampleIsBigEnough) {
  RolloutLimits l;
  l.canary_percent = 0;
  l.batch_size = 100;
  l.min_sample = 4;
  l.max_failure_percent = 25;
  Sim sim(10, l);
  sim.step();
  sim.report(1, S::kFailed);
  sim.report(2, S::kFailed);
  EXPECT_FALSE(sim.step().rollout);  // 2 finished: below the sample
  sim.report(3, S::kConfirmed);
  sim.report(4, S::kConfirmed);
  auto d = sim.step();  // 2 of 4 failed: 50% > 25%
  EXPECT_EQ(d.rollout, RolloutState::kHalted);
  EXPECT_NE(d.reason.find("2 of 4 finished devices failed"), std::string::npos) << d.reason;
  EXPECT_TRUE(d.roll_back.empty());      // no auto_rollback
  EXPECT_TRUE(sim.step().send.empty());  // halted: nothing more is sent
}

TEST(RolloutPlannerTest, AlarmsFromSwitchedDevicesHaltAndAutoRollbackSendsThemBack) {
  RolloutLimits l;
  l.canary_percent = 0;
  l.batch_size = 4;
  l.max_alarm_percent = 30;
  l.auto_rollback = true;
  Sim sim(8, l);
  sim.step();
  for (int64_t id = 1; id <= 3; ++id) sim.report(id, S::kConfirmed);
  sim.report(4, S::kApplied);
  sim.at(1).alarmed = true;  // 1 of 4: 25%, not more than 30%
  EXPECT_FALSE(sim.step().rollout);
  sim.at(2).alarmed = true;  // 2 of 4: 50%
  auto d = sim.step();
  EXPECT_EQ(d.rollout, RolloutState::kHalted);
  EXPECT_NE(d.reason.find("2 of 4 devices running the target raised"), std::string::npos)
      << d.reason;
  EXPECT_EQ(d.roll_back, (std::vector<int64_t>{1, 2, 3, 4}));
}

TEST(RolloutPlannerTest, PausedSendsNothingButStillTimesOut) {
  RolloutLimits l;
  l.canary_percent = 0;
  l.batch_size = 1;
  l.device_timeout = 10s;
  Sim sim(2, l);
  sim.step();
  sim.state = RolloutState::kPaused;
  sim.now = t0 + 10s;
  auto d = sim.step();
  ASSERT_EQ(d.devices.size(), 1u);
  EXPECT_EQ(d.devices[0].to, S::kTimedOut);
  EXPECT_TRUE(d.send.empty());
  EXPECT_FALSE(d.rollout);             // a paused rollout neither halts nor completes by itself
  sim.state = RolloutState::kRunning;  // resumed; 1 failure of 1 finished is below min_sample
  EXPECT_EQ(sim.step().send, (std::vector<int64_t>{2}));
}

TEST(RolloutPlannerTest, NamesRoundTrip) {
  for (auto s : {S::kPending, S::kSent, S::kDownloading, S::kApplied, S::kConfirmed, S::kFailed,
                 S::kTimedOut, S::kSkipped}) {
    EXPECT_EQ(device_state_from(to_string(s)), s);
  }
  for (auto s : {RolloutState::kRunning, RolloutState::kPaused, RolloutState::kHalted,
                 RolloutState::kCompleted, RolloutState::kAborted}) {
    EXPECT_EQ(rollout_state_from(to_string(s)), s);
  }
  for (auto a : {RolloutAction::kUpdate, RolloutAction::kRollback, RolloutAction::kBlank}) {
    EXPECT_EQ(rollout_action_from(to_string(a)), a);
  }
  EXPECT_FALSE(device_state_from("bogus"));
}

}  // namespace
}  // namespace vigil::fleet
