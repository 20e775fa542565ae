// RolloutService's behaviour suite, run on SQLite (rollout_service_test.cpp) and PostgreSQL
// (rollout_service_pgtest.cpp). A fake clock drives time; tests call step() themselves, and
// device reports go through apply_device_report exactly as the hub applies them. The hub is not
// started and no device has a session: commands are checked in the store.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "core/ids.h"
#include "fleet/alarm_store.h"
#include "fleet/commands.h"
#include "fleet/device_hub.h"
#include "fleet/rollout_service.h"
#include "support/backends.h"

namespace vigil::fleet::testing {

template <typename Backend>
class RolloutSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.set_up();
    if (IsSkipped() || HasFatalFailure()) return;
    vigil::testing::open_migrated(backend_.url(), 4, db_);
    if (HasFatalFailure()) return;
    // Admins 1-8: who starts, pauses, resumes and aborts.
    for (int i = 1; i <= 8; ++i) {
      const std::string email = "admin" + std::to_string(i) + "@example.com";
      std::vector<store::Value> p{int64_t{i}, email, now_rfc3339()};
      ASSERT_TRUE(db_->exec("INSERT INTO users (id, email, email_key, password_hash, role, "
                            "created_at, updated_at) VALUES ($1, $2, $2, '!', 'admin', $3, $3)",
                            p)
                      .ok());
    }
    auto signer = ModelSigner::from_seed_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    ASSERT_TRUE(signer.ok());
    signer_ = std::make_unique<ModelSigner>(std::move(*signer));
    devices_ = std::make_unique<DeviceStore>(*db_);
    alarms_ = std::make_unique<AlarmStore>(*db_);
    ModelLookup lookup = [](std::string_view name,
                            std::optional<int64_t> version) -> Expected<ModelOffer> {
      if (name == "nope") return not_found("no model named nope");
      return ModelOffer{.name = std::string(name),
                        .version = version.value_or(1),
                        .sha256 = std::string(64, 'a')};
    };
    hub_ = std::make_unique<DeviceHub>(*db_, *alarms_, *signer_, lookup, metrics_);
    rollouts_ = make_service();
  }
  void TearDown() override {
    rollouts_.reset();
    hub_.reset();
    alarms_.reset();
    devices_.reset();
    signer_.reset();
    db_.reset();
    backend_.tear_down();
  }

  std::unique_ptr<RolloutService> make_service() {
    return std::make_unique<RolloutService>(*db_, *hub_, metrics_, [this] { return now_; });
  }

  // A device whose desired (and running) model is `model`, online or not.
  int64_t device(const std::string& name, std::optional<ModelRef> model, bool online = true,
                 const Labels& labels = {}) {
    auto d = devices_->create(name, "misc", labels, 0);
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    if (!d.ok()) return 0;
    if (model) {
      auto a = assign_model(*db_, name, *model);
      EXPECT_TRUE(a.ok());
      EXPECT_TRUE(devices_->report_running(d->id, model, now_rfc3339()).ok());
      // Done with that command: it ran it.
      report(d->id, DeviceState::kConfirmed);
    }
    set_online(d->id, online);
    return d->id;
  }
  void set_online(int64_t id, bool online) {
    std::vector<store::Value> p{
        online ? store::Value(format_rfc3339(now_ + std::chrono::hours(24 * 365)))
               : store::Value(std::monostate{}),
        id};
    ASSERT_TRUE(db_->exec("UPDATE devices SET online_until = $1 WHERE id = $2", p).ok());
  }
  std::optional<Command> open_command(int64_t device_id) {
    std::optional<Command> out;
    EXPECT_TRUE(db_->read([&](store::Session& s) -> Status {
                     auto c = unfinished_command(s, device_id);
                     if (!c.ok()) return c.status();
                     out = *c;
                     return {};
                   })
                    .ok());
    return out;
  }
  // The device reports on its unfinished command.
  void report(int64_t device_id, DeviceState state) {
    auto c = open_command(device_id);
    ASSERT_TRUE(c) << "device " << device_id << " has no open command";
    auto r = store::write_returning<Reported>(*db_, [&](store::Session& s) {
      return apply_device_report(s, device_id, 0, c->id, state,
                                 state == DeviceState::kFailed ? "broken" : "",
                                 format_rfc3339(now_));
    });
    ASSERT_TRUE(r.ok()) << r.status().to_string();
  }
  void step(int64_t id) {
    Status s = rollouts_->step(id);
    ASSERT_TRUE(s.ok()) << s.to_string();
  }
  std::map<std::string, int64_t> counts(int64_t id) {
    auto r = rollouts_->get(id);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->counts : std::map<std::string, int64_t>{};
  }
  RolloutState state(int64_t id) {
    auto r = rollouts_->get(id);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->state : RolloutState::kAborted;
  }
  static RolloutSpec update(RolloutSelect select, ModelRef target, RolloutLimits limits) {
    return {.select = std::move(select),
            .action = RolloutAction::kUpdate,
            .target = target,
            .limits = limits};
  }
  // Built field by field (GCC 12 warns about nested designated initialisers that skip members).
  static RolloutSpec spec_of(RolloutSelect::Kind kind, RolloutAction action,
                             std::vector<std::string> devices = {}) {
    RolloutSpec spec;
    spec.select.kind = kind;
    spec.select.devices = std::move(devices);
    spec.action = action;
    spec.limits.canary_percent = 0;
    return spec;
  }
  static RolloutSelect on_model(ModelRef m) {
    return {.kind = RolloutSelect::Kind::kModel, .model = std::move(m)};
  }

  Backend backend_;
  Clock::time_point now_ = Clock::now();
  MetricsRegistry metrics_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<ModelSigner> signer_;
  std::unique_ptr<DeviceStore> devices_;
  std::unique_ptr<AlarmStore> alarms_;
  std::unique_ptr<DeviceHub> hub_;
  std::unique_ptr<RolloutService> rollouts_;
};

TYPED_TEST_SUITE_P(RolloutSuite);

TYPED_TEST_P(RolloutSuite, CanaryThenBatchesUntilEveryDeviceConfirms) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(this->device("d" + std::to_string(i), ModelRef{"m", 1}));
  this->device("other", ModelRef{"x", 1});  // not selected
  auto r = this->rollouts_->create(
      this->update(this->on_model({"M", 1}), {"m", 2},
                   {.canary_percent = 20, .batch_size = 2, .confirm = std::chrono::seconds(0)}),
      7);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->counts["pending"], 5);
  const int64_t id = r->id;
  this->step(id);
  EXPECT_EQ(this->counts(id)["sent"], 1);  // the canary
  auto c = this->open_command(ids[0]);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->model, (ModelRef{"m", 2}));
  EXPECT_EQ(c->rollout_id, id);
  this->step(id);
  EXPECT_EQ(this->counts(id)["sent"], 1);  // the next wave waits for the canary
  this->report(ids[0], DeviceState::kApplied);
  this->report(ids[0], DeviceState::kConfirmed);
  this->step(id);
  EXPECT_EQ(this->counts(id)["sent"], 2);
  for (size_t i : {1u, 2u}) this->report(ids[i], DeviceState::kConfirmed);
  this->step(id);
  for (size_t i : {3u, 4u}) this->report(ids[i], DeviceState::kConfirmed);
  this->step(id);
  auto done = this->rollouts_->get(id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, RolloutState::kCompleted);
  EXPECT_EQ(done->counts["confirmed"], 5);
  ASSERT_EQ(done->history.size(), 2u);
  EXPECT_EQ(done->history[0].by_user, 7);
  EXPECT_EQ(done->history[0].to_state, "running");
  EXPECT_EQ(done->history[1].by_user, 0);  // the server decided
  EXPECT_EQ(done->history[1].to_state, "completed");
  const std::string metrics = this->metrics_.render();
  EXPECT_NE(metrics.find("vigil_fleet_rollout_transitions_total{state=\"running\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("vigil_fleet_rollout_transitions_total{state=\"completed\"} 1"),
            std::string::npos);
  auto dev = this->devices_->get("d4");
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->running, (ModelRef{"m", 2}));
  EXPECT_EQ(dev->previous, (ModelRef{"m", 1}));
}

TYPED_TEST_P(RolloutSuite, AnOfflineDeviceWaitsWithoutHoldingUpTheRest) {
  const int64_t off = this->device("a", ModelRef{"m", 1}, /*online=*/false);
  const int64_t on = this->device("b", ModelRef{"m", 1});
  auto r = this->rollouts_->create(
      this->update(this->on_model({"m", 1}), {"m", 2},
                   {.canary_percent = 50, .batch_size = 1, .confirm = std::chrono::seconds(0)}),
      1);
  ASSERT_TRUE(r.ok());
  this->step(r->id);
  EXPECT_FALSE(this->open_command(off));  // pending while offline
  ASSERT_TRUE(this->open_command(on));    // the next wave went ahead
  this->report(on, DeviceState::kConfirmed);
  this->set_online(off, true);
  this->step(r->id);
  ASSERT_TRUE(this->open_command(off));
  this->report(off, DeviceState::kConfirmed);
  this->step(r->id);
  EXPECT_EQ(this->state(r->id), RolloutState::kCompleted);
}

TYPED_TEST_P(RolloutSuite, FailuresHaltItAndAutoRollbackSendsTheSwitchedBack) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i)
    ids.push_back(this->device("d" + std::to_string(i), ModelRef{"m", 1}));
  auto r = this->rollouts_->create(this->update(this->on_model({"m", 1}), {"m", 2},
                                                {.canary_percent = 0,
                                                 .batch_size = 10,
                                                 .max_failure_percent = 25,
                                                 .min_sample = 4,
                                                 .confirm = std::chrono::seconds(0),
                                                 .auto_rollback = true}),
                                   1);
  ASSERT_TRUE(r.ok());
  this->step(r->id);
  EXPECT_EQ(this->counts(r->id)["sent"], 4);
  this->report(ids[0], DeviceState::kConfirmed);
  this->report(ids[1], DeviceState::kConfirmed);
  this->report(ids[2], DeviceState::kFailed);
  this->step(r->id);
  EXPECT_EQ(this->state(r->id), RolloutState::kRunning);  // 3 finished < min_sample
  this->report(ids[3], DeviceState::kFailed);
  this->step(r->id);
  auto halted = this->rollouts_->get(r->id);
  ASSERT_TRUE(halted.ok());
  EXPECT_EQ(halted->state, RolloutState::kHalted);
  EXPECT_NE(
      this->metrics_.render().find("vigil_fleet_rollout_transitions_total{state=\"halted\"} 1"),
      std::string::npos);
  EXPECT_NE(halted->reason.find("2 of 4"), std::string::npos) << halted->reason;
  EXPECT_EQ(halted->history.back().reason, halted->reason);
  for (size_t i : {0u, 1u}) {
    auto back = this->open_command(ids[i]);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->action, RolloutAction::kRollback);
    EXPECT_EQ(back->model, (ModelRef{"m", 1}));
  }
  EXPECT_FALSE(this->open_command(ids[2]));  // it never left v1
}

TYPED_TEST_P(RolloutSuite, ADeviceThatDoesNotConfirmInTimeTimesOut) {
  const int64_t id = this->device("a", ModelRef{"m", 1});
  auto r = this->rollouts_->create(this->update(this->on_model({"m", 1}), {"m", 2},
                                                {.canary_percent = 0,
                                                 .min_sample = 1,
                                                 .device_timeout = std::chrono::seconds(60),
                                                 .confirm = std::chrono::seconds(0)}),
                                   1);
  ASSERT_TRUE(r.ok());
  this->step(r->id);
  this->report(id, DeviceState::kDownloading);
  this->now_ += std::chrono::seconds(59);
  this->step(r->id);
  EXPECT_EQ(this->counts(r->id)["downloading"], 1);
  this->now_ += std::chrono::seconds(2);
  this->step(r->id);
  EXPECT_EQ(this->counts(r->id)["timed_out"], 1);
  EXPECT_EQ(this->state(r->id), RolloutState::kHalted);  // 1 of 1 failed
}

TYPED_TEST_P(RolloutSuite, AlarmsFromSwitchedDevicesHaltIt) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(this->device("d" + std::to_string(i), ModelRef{"m", 1}));
  auto r = this->rollouts_->create(
      this->update(
          this->on_model({"m", 1}), {"m", 2},
          {.canary_percent = 0, .max_alarm_percent = 40, .confirm = std::chrono::seconds(0)}),
      1);
  ASSERT_TRUE(r.ok());
  this->step(r->id);
  for (int64_t id : ids) this->report(id, DeviceState::kConfirmed);
  // A minor alarm and one about the old model do not count.
  ASSERT_TRUE(
      this->alarms_->report({.device_id = ids[0], .model = ModelRef{"m", 2}, .severity = "minor"})
          .ok());
  ASSERT_TRUE(this->alarms_
                  ->report({.device_id = ids[1], .model = ModelRef{"m", 1}, .severity = "critical"})
                  .ok());
  this->step(r->id);
  EXPECT_EQ(this->state(r->id), RolloutState::kCompleted);
  // A new rollout to v3 where one of three switched devices raises a major alarm on v3.
  auto r3 = this->rollouts_->create(
      this->update(
          this->on_model({"m", 2}), {"m", 3},
          {.canary_percent = 0, .max_alarm_percent = 30, .confirm = std::chrono::seconds(0)}),
      1);
  ASSERT_TRUE(r3.ok());
  this->step(r3->id);
  for (int64_t id : ids) this->report(id, DeviceState::kApplied);
  ASSERT_TRUE(
      this->alarms_->report({.device_id = ids[2], .model = ModelRef{"m", 3}, .severity = "major"})
          .ok());
  this->step(r3->id);
  auto halted = this->rollouts_->get(r3->id);
  ASSERT_TRUE(halted.ok());
  EXPECT_EQ(halted->state, RolloutState::kHalted);
  EXPECT_NE(halted->reason.find("alarm"), std::string::npos) << halted->reason;
}

TYPED_TEST_P(RolloutSuite, PauseResumeAbortAreRecordedWithWho) {
  const int64_t dev = this->device("a", ModelRef{"m", 1});
  this->device("b", ModelRef{"m", 1});
  auto r = this->rollouts_->create(
      this->update(this->on_model({"m", 1}), {"m", 2},
                   {.canary_percent = 50, .batch_size = 1, .confirm = std::chrono::seconds(0)}),
      3);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(this->rollouts_->pause(r->id, 4, "looking at the canary first").ok());
  this->step(r->id);
  EXPECT_FALSE(this->open_command(dev));  // paused: nothing sent
  EXPECT_EQ(this->rollouts_->pause(r->id, 4).status().code(), ErrorCode::kConflict);
  ASSERT_TRUE(this->rollouts_->resume(r->id, 5).ok());
  this->step(r->id);
  EXPECT_TRUE(this->open_command(dev));
  ASSERT_TRUE(this->rollouts_->abort(r->id, 6, "wrong model").ok());
  EXPECT_EQ(this->rollouts_->abort(r->id, 6).status().code(), ErrorCode::kConflict);
  EXPECT_EQ(this->rollouts_->resume(r->id, 6).status().code(), ErrorCode::kConflict);
  auto got = this->rollouts_->get(r->id);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->history.size(), 4u);
  EXPECT_EQ(got->history[1].by_user, 4);
  EXPECT_EQ(got->history[1].reason, "looking at the canary first");
  EXPECT_EQ(got->history[2].by_user, 5);
  EXPECT_EQ(got->history[3].to_state, "aborted");
  EXPECT_EQ(got->history[3].by_user, 6);
  EXPECT_EQ(this->rollouts_->get(999).status().code(), ErrorCode::kNotFound);
  auto listed = this->rollouts_->list({.state = RolloutState::kAborted});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
}

TYPED_TEST_P(RolloutSuite, NeverFasterThanTheRatePerMinute) {
  for (int i = 0; i < 5; ++i) this->device("d" + std::to_string(i), ModelRef{"m", 1});
  auto r = this->rollouts_->create(this->update(this->on_model({"m", 1}), {"m", 2},
                                                {.canary_percent = 0,
                                                 .batch_size = 10,
                                                 .rate_per_minute = 2,
                                                 .confirm = std::chrono::seconds(0)}),
                                   1);
  ASSERT_TRUE(r.ok());
  this->step(r->id);
  EXPECT_EQ(this->counts(r->id)["sent"], 2);
  this->now_ += std::chrono::seconds(30);
  this->step(r->id);
  EXPECT_EQ(this->counts(r->id)["sent"], 2);
  this->now_ += std::chrono::seconds(31);
  this->step(r->id);
  EXPECT_EQ(this->counts(r->id)["sent"], 4);
}

TYPED_TEST_P(RolloutSuite, RollbackAndBlankKnowTheirTargets) {
  const int64_t a = this->device("a", ModelRef{"m", 1});
  ASSERT_TRUE(assign_model(*this->db_, "a", {"m", 2}).ok());
  this->report(a, DeviceState::kConfirmed);
  const int64_t fresh = this->device("b", ModelRef{"m", 2});  // no previous model
  auto r = this->rollouts_->create(
      this->spec_of(RolloutSelect::Kind::kAll, RolloutAction::kRollback), 1);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  this->step(r->id);
  auto back = this->open_command(a);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->action, RolloutAction::kRollback);
  EXPECT_EQ(back->model, (ModelRef{"m", 1}));
  EXPECT_FALSE(this->open_command(fresh));
  auto skipped = this->rollouts_->devices(r->id, DeviceState::kSkipped, 10, -1);
  ASSERT_TRUE(skipped.ok());
  ASSERT_EQ(skipped->size(), 1u);
  EXPECT_EQ(skipped->at(0).device, "b");
  ASSERT_TRUE(this->rollouts_->abort(r->id, 1).ok());

  auto blank = this->rollouts_->create(
      this->spec_of(RolloutSelect::Kind::kDevices, RolloutAction::kBlank, {"B"}), 1);
  ASSERT_TRUE(blank.ok());
  this->step(blank->id);
  auto parked = this->open_command(fresh);
  ASSERT_TRUE(parked);
  EXPECT_EQ(parked->action, RolloutAction::kBlank);
  EXPECT_EQ(parked->model.name, "blank");
  // Unknown names and targets are refused before anything is stored.
  EXPECT_EQ(
      this->rollouts_
          ->create(this->spec_of(RolloutSelect::Kind::kDevices, RolloutAction::kBlank, {"zz"}), 1)
          .status()
          .code(),
      ErrorCode::kNotFound);
  EXPECT_EQ(this->rollouts_->create(this->update(this->on_model({"m", 1}), {"nope", 1}, {}), 1)
                .status()
                .code(),
            ErrorCode::kNotFound);
}

TYPED_TEST_P(RolloutSuite, ARestartedServiceResumesFromTheStore) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(this->device("d" + std::to_string(i), ModelRef{"m", 1}));
  auto r = this->rollouts_->create(
      this->update(this->on_model({"m", 1}), {"m", 2},
                   {.canary_percent = 33, .batch_size = 5, .confirm = std::chrono::seconds(0)}),
      1);
  ASSERT_TRUE(r.ok());
  this->step(r->id);
  this->report(ids[0], DeviceState::kConfirmed);
  this->rollouts_.reset();  // "killed": nothing in memory survives
  this->rollouts_ = this->make_service();
  this->rollouts_->start();  // its driver wakes every unfinished rollout
  bool sent = false;
  for (int i = 0; i < 500 && !sent; ++i) {
    sent = this->counts(r->id)["sent"] == 2;
    if (!sent) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(sent);
  this->rollouts_->stop();
}

// A wave larger than a step writes at once (500 commands) goes out in chunks, each written
// before it is sent: after one step every device of the wave has its command.
TYPED_TEST_P(RolloutSuite, ALargeWaveIsSentWholeInChunks) {
  constexpr int kDevices = 1201;
  for (int i = 0; i < kDevices; ++i) this->device("w" + std::to_string(i), std::nullopt);
  RolloutLimits limits;
  limits.canary_percent = 0;
  limits.batch_size = 2000;
  RolloutSelect all;
  all.kind = RolloutSelect::Kind::kAll;
  auto r = this->rollouts_->create(this->update(all, {"m", 2}, limits), 1);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  this->step(r->id);
  EXPECT_EQ(this->counts(r->id)["sent"], kDevices);
  auto commands = this->db_->query(
      "SELECT COUNT(DISTINCT device_id), COUNT(*) FROM commands "
      "WHERE rollout_id = $1 AND state = 'open'",
      {store::Value(r->id)});
  ASSERT_TRUE(commands.ok());
  EXPECT_EQ(commands->get_int(0, 0), kDevices);
  EXPECT_EQ(commands->get_int(0, 1), kDevices);
  auto linked = this->db_->query(
      "SELECT COUNT(*) FROM rollout_devices rd JOIN commands c ON c.id = rd.command_id WHERE "
      "rd.rollout_id = $1 AND c.device_id = rd.device_id AND rd.sent_at IS NOT NULL",
      {store::Value(r->id)});
  ASSERT_TRUE(linked.ok());
  EXPECT_EQ(linked->get_int(0, 0), kDevices);
}

REGISTER_TYPED_TEST_SUITE_P(RolloutSuite, ALargeWaveIsSentWholeInChunks,
                            CanaryThenBatchesUntilEveryDeviceConfirms,
                            AnOfflineDeviceWaitsWithoutHoldingUpTheRest,
                            FailuresHaltItAndAutoRollbackSendsTheSwitchedBack,
                            ADeviceThatDoesNotConfirmInTimeTimesOut,
                            AlarmsFromSwitchedDevicesHaltIt, PauseResumeAbortAreRecordedWithWho,
                            NeverFasterThanTheRatePerMinute, RollbackAndBlankKnowTheirTargets,
                            ARestartedServiceResumesFromTheStore);

}  // namespace vigil::fleet::testing
