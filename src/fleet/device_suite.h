// DeviceStore's behaviour suite, run on SQLite (device_store_test.cpp) and PostgreSQL
// (device_store_pgtest.cpp) with the backends of tests/support/backends.h.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include <atomic>
#include <thread>

#include "core/ids.h"
#include "fleet/alarm_store.h"
#include "fleet/commands.h"
#include "fleet/device_store.h"
#include "fleet/watchdogs.h"
#include "support/backends.h"

namespace vigil::fleet::testing {

template <typename Backend>
class DeviceSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.set_up();
    if (IsSkipped() || HasFatalFailure()) return;
    vigil::testing::open_migrated(backend_.url(), 4, db_);
    if (HasFatalFailure()) return;
    devices_ = std::make_unique<DeviceStore>(*db_);
    tokens_ = std::make_unique<auth::TokenService>(*db_, std::chrono::hours(1));
    watchdogs_ = std::make_unique<WatchdogService>(*db_, *tokens_);
    alarms_ = std::make_unique<AlarmStore>(*db_);
  }
  void TearDown() override {
    alarms_.reset();
    watchdogs_.reset();
    tokens_.reset();
    devices_.reset();
    db_.reset();
    backend_.tear_down();
  }

  Backend backend_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<DeviceStore> devices_;
  std::unique_ptr<auth::TokenService> tokens_;
  std::unique_ptr<WatchdogService> watchdogs_;
  std::unique_ptr<AlarmStore> alarms_;
};

TYPED_TEST_SUITE_P(DeviceSuite);

TYPED_TEST_P(DeviceSuite, NamesAreUniqueIgnoringCaseAndStoredAsGiven) {
  auto& d = *this->devices_;
  auto cam = d.create("Cam-01", "camera", {{"site", "north"}}, 0);
  ASSERT_TRUE(cam.ok()) << cam.status().to_string();
  EXPECT_EQ(cam->name, "Cam-01");
  EXPECT_EQ(cam->type, "camera");
  EXPECT_EQ(cam->labels, (Labels{{"site", "north"}}));
  EXPECT_FALSE(cam->model);
  EXPECT_EQ(d.create("cam-01", "misc", {}, 0).status().code(), ErrorCode::kAlreadyExists);
  auto got = d.get("CAM-01");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id, cam->id);
  EXPECT_EQ(d.get("nope").status().code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(DeviceSuite, BadFieldsAreNamed) {
  auto& d = *this->devices_;
  EXPECT_EQ(d.create("bad name", "misc", {}, 0).status().field(), "name");
  EXPECT_EQ(d.create("ok", "Camera!", {}, 0).status().field(), "type");
  EXPECT_EQ(d.create("ok", "misc", {{"bad key", "v"}}, 0).status().field(), "labels");
  EXPECT_EQ(
      d.create("ok", "misc", {{"k", std::string(kMaxLabelValue + 1, 'v')}}, 0).status().field(),
      "labels");
  Labels many;
  for (size_t i = 0; i <= kMaxLabels; ++i) many["k" + std::to_string(i)] = "v";
  EXPECT_EQ(d.create("ok", "misc", many, 0).status().field(), "labels");
  EXPECT_EQ(d.get("ok").status().code(), ErrorCode::kNotFound);  // nothing half-made
}

TYPED_TEST_P(DeviceSuite, ListFiltersByTypeLabelsAndModelAndPages) {
  auto& d = *this->devices_;
  ASSERT_TRUE(d.create("a", "camera", {{"site", "north"}, {"floor", "1"}}, 0).ok());
  ASSERT_TRUE(d.create("b", "camera", {{"site", "south"}}, 0).ok());
  ASSERT_TRUE(d.create("c", "misc", {{"site", "north"}}, 0).ok());
  ASSERT_TRUE(assign_model(*this->db_, "a", {"Leak", 3}).ok());
  ASSERT_TRUE(assign_model(*this->db_, "c", {"leak", 4}).ok());
  auto names = [&](DeviceFilter f) {
    std::vector<std::string> out;
    auto list = d.list(f);
    EXPECT_TRUE(list.ok()) << list.status().to_string();
    if (list.ok()) {
      for (const auto& dev : *list) out.push_back(dev.name);
    }
    return out;
  };
  EXPECT_EQ(names({.type = "camera"}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(names({.labels = {{"site", "north"}}}), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(names({.labels = {{"site", "north"}, {"floor", "1"}}}),
            (std::vector<std::string>{"a"}));
  EXPECT_EQ(names({.model = "LEAK"}), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(names({.model = "leak", .version = 4}), (std::vector<std::string>{"c"}));
  auto first = d.list({.limit = 2});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ(names({.limit = 2, .after_id = first->back().id}), (std::vector<std::string>{"c"}));
  auto listed = d.list({.labels = {{"floor", "1"}}});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->at(0).labels.size(), 2u);  // every label comes back, not only the match
  EXPECT_EQ(d.list({.limit = 0}).status().field(), "limit");
}

TYPED_TEST_P(DeviceSuite, AssigningKeepsThePreviousModelAndIssuesOneOpenCommand) {
  auto& d = *this->devices_;
  auto& db = *this->db_;
  ASSERT_TRUE(d.create("dev", "misc", {}, 0).ok());
  auto v1 = assign_model(db, "dev", {"m", 1});
  ASSERT_TRUE(v1.ok()) << v1.status().to_string();
  EXPECT_EQ(v1->device.model, (ModelRef{"m", 1}));
  EXPECT_FALSE(v1->device.previous);
  ASSERT_TRUE(v1->command);
  EXPECT_EQ(v1->command->state, "open");
  EXPECT_EQ(v1->command->model, (ModelRef{"m", 1}));
  auto v2 = assign_model(db, "dev", {"m", 2});
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->device.previous, (ModelRef{"m", 1}));
  ASSERT_TRUE(v2->command);
  auto again = assign_model(db, "dev", {"m", 2});  // its command is open: no change
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->device.previous, (ModelRef{"m", 1}));
  EXPECT_FALSE(again->command);
  // The v1 command was superseded: one unfinished command, v2's.
  ASSERT_TRUE(db.read([&](store::Session& s) -> Status {
                  auto old = get_command(s, v1->command->id);
                  EXPECT_TRUE(old.ok());
                  if (old.ok()) {
                    EXPECT_EQ(old->state, "superseded");
                  }
                  auto open = unfinished_command(s, v2->device.id);
                  EXPECT_TRUE(open.ok() && *open);
                  if (open.ok() && *open) {
                    EXPECT_EQ((*open)->id, v2->command->id);
                  }
                  return {};
                }).ok());
  EXPECT_EQ(assign_model(db, "dev", {"m", 0}).status().field(), "version");
  EXPECT_EQ(assign_model(db, "nope", {"m", 1}).status().code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(DeviceSuite, CommandReportsOnlyMoveForward) {
  auto& db = *this->db_;
  ASSERT_TRUE(this->devices_->create("dev", "misc", {}, 0).ok());
  auto a = assign_model(db, "dev", {"m", 1});
  ASSERT_TRUE(a.ok() && a->command);
  const int64_t id = a->command->id;
  auto report = [&](DeviceState st) {
    return store::write_returning<Reported>(db, [&](store::Session& s) {
      return report_command(s, id, st, st == DeviceState::kFailed ? "bad" : "", now_rfc3339());
    });
  };
  auto applied = report(DeviceState::kApplied);
  ASSERT_TRUE(applied.ok());
  EXPECT_TRUE(applied->changed);
  EXPECT_EQ(applied->command.state, "applied");
  auto back = report(DeviceState::kDownloading);  // never backwards
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->changed);
  EXPECT_EQ(back->command.state, "applied");
  auto done = report(DeviceState::kConfirmed);
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->changed);
  auto late = report(DeviceState::kFailed);  // final stays final
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->changed);
  EXPECT_EQ(late->command.state, "confirmed");
  // Confirmed and run: assigning the same model again sends nothing once it runs it.
  ASSERT_TRUE(this->devices_->report_running(a->device.id, ModelRef{"m", 1}, now_rfc3339()).ok());
  auto same = assign_model(db, "dev", {"m", 1});
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->command);
  EXPECT_EQ(store::write_returning<Reported>(
                db,
                [&](store::Session& s) {
                  return report_command(s, 999999, DeviceState::kApplied, "", now_rfc3339());
                })
                .status()
                .code(),
            ErrorCode::kNotFound);
}

TYPED_TEST_P(DeviceSuite, UpdateRemoveAndRunningReports) {
  auto& d = *this->devices_;
  auto dev = d.create("dev", "misc", {{"a", "1"}}, 0);
  ASSERT_TRUE(dev.ok());
  auto updated = d.update("DEV", {.type = "camera", .labels = Labels{{"b", "2"}}});
  ASSERT_TRUE(updated.ok()) << updated.status().to_string();
  EXPECT_EQ(updated->type, "camera");
  EXPECT_EQ(updated->labels, (Labels{{"b", "2"}}));
  ASSERT_TRUE(d.report_running(dev->id, ModelRef{"m", 7}, "2026-12-05T10:00:00.000Z").ok());
  auto got = d.get("dev");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->running, (ModelRef{"m", 7}));
  EXPECT_EQ(got->last_seen, "2026-12-05T10:00:00.000Z");
  ASSERT_TRUE(d.remove("Dev").ok());
  EXPECT_EQ(d.remove("dev").code(), ErrorCode::kNotFound);
  EXPECT_EQ(d.report_running(dev->id, std::nullopt, "x").code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(DeviceSuite, AnEnrollmentCodeMakesOneWatchdogWithAToken) {
  auto& w = *this->watchdogs_;
  ASSERT_TRUE(this->devices_->create("dev", "misc", {}, 0).ok());
  auto code = w.create_code("DEV", std::chrono::hours(24), 0);
  ASSERT_TRUE(code.ok()) << code.status().to_string();
  ASSERT_EQ(code->code.size(), kEnrollmentCodeLength);
  EXPECT_EQ(code->code.find_first_of("ILOU01"), std::string::npos) << code->code;
  // Any case, with separators, as people type codes.
  std::string typed = code->code.substr(0, 8) + "-" + code->code.substr(8);
  for (char& c : typed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto enrolled = w.enroll(typed, "wd-1");
  ASSERT_TRUE(enrolled.ok()) << enrolled.status().to_string();
  EXPECT_EQ(enrolled->watchdog.name, "wd-1");
  EXPECT_EQ(enrolled->watchdog.device, "dev");
  auto who = this->tokens_->resolve(enrolled->token);
  ASSERT_EQ(who.outcome, auth::AuthOutcome::kOk);
  EXPECT_EQ(who.principal.role, "watchdog");
  EXPECT_EQ(who.principal.name, "wd-1");
  // Single use.
  EXPECT_EQ(w.enroll(code->code, "wd-2").status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(w.enroll("NOTACODEATALL123", "wd-2").status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(w.create_code("nope", std::chrono::hours(1), 0).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(w.create_code("dev", std::chrono::seconds(0), 0).status().field(), "expires_in_s");
}

TYPED_TEST_P(DeviceSuite, ExpiredCodesAndTakenNamesEnrollNothing) {
  auto& w = *this->watchdogs_;
  ASSERT_TRUE(this->devices_->create("dev", "misc", {}, 0).ok());
  auto first = w.create_code("dev", std::chrono::hours(1), 0);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(w.enroll(first->code, "wd").ok());
  auto second = w.create_code("dev", std::chrono::hours(1), 0);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(w.enroll(second->code, "WD").status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(w.enroll(second->code, "bad name").status().field(), "watchdog");
  EXPECT_TRUE(w.enroll(second->code, "wd-b").ok());  // the failures left the code unused
  auto old = w.create_code("dev", std::chrono::hours(1), 0);
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(
      this->db_->exec("UPDATE enrollments SET expires_at = '2000-01-01T00:00:00.000Z'").ok());
  EXPECT_EQ(w.enroll(old->code, "wd-c").status().code(), ErrorCode::kUnauthenticated);
}

TYPED_TEST_P(DeviceSuite, DeletingAWatchdogRevokesItsToken) {
  auto& w = *this->watchdogs_;
  ASSERT_TRUE(this->devices_->create("dev", "misc", {}, 0).ok());
  ASSERT_TRUE(this->devices_->create("other", "misc", {}, 0).ok());
  std::string token;
  for (const char* dev : {"dev", "other"}) {
    auto code = w.create_code(dev, std::chrono::hours(1), 0);
    ASSERT_TRUE(code.ok());
    auto e = w.enroll(code->code, std::string("wd-") + dev);
    ASSERT_TRUE(e.ok());
    token = e->token;  // other's
  }
  auto mine = w.list(50, 0, "OTHER");
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ(mine->at(0).name, "wd-other");
  EXPECT_EQ(w.list(50, 0)->size(), 2u);
  ASSERT_EQ(this->tokens_->resolve(token).outcome, auth::AuthOutcome::kOk);
  ASSERT_TRUE(w.remove("WD-OTHER").ok());
  EXPECT_NE(this->tokens_->resolve(token).outcome, auth::AuthOutcome::kOk);
  EXPECT_EQ(w.get("wd-other").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(w.remove("wd-other").code(), ErrorCode::kNotFound);
}

// One code redeemed from many connections at once makes one watchdog (the enrollment row is
// locked on PostgreSQL; SQLite serialises writers).
TYPED_TEST_P(DeviceSuite, ACodeRedeemedConcurrentlyMakesOneWatchdog) {
  auto& w = *this->watchdogs_;
  ASSERT_TRUE(this->devices_->create("dev", "misc", {}, 0).ok());
  auto code = w.create_code("dev", std::chrono::hours(1), 0);
  ASSERT_TRUE(code.ok());
  std::atomic<int> enrolled{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto e = w.enroll(code->code, "wd-" + std::to_string(i));
      if (e.ok()) ++enrolled;
      EXPECT_TRUE(e.ok() || e.status().code() == ErrorCode::kUnauthenticated ||
                  e.status().code() == ErrorCode::kUnavailable)
          << e.status().to_string();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(enrolled.load(), 1);
  EXPECT_EQ(w.list(50, 0)->size(), 1u);
}

// 50 reports of one open alarm at once, on as many connections as the pool has: one alarm
// with count 50 and the highest severity reported.
TYPED_TEST_P(DeviceSuite, ConcurrentReportsOfOneAlarmMakeOneAlarm) {
  auto dev = this->devices_->create("dev", "misc", {}, 0);
  ASSERT_TRUE(dev.ok());
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      AlarmReport r{.device_id = dev->id,
                    .model = ModelRef{"Leak", 3},
                    .severity = i == 17 ? "critical" : "minor"};
      auto a = this->alarms_->report(r);
      EXPECT_TRUE(a.ok()) << a.status().to_string();
    });
  }
  for (auto& t : threads) t.join();
  auto all = this->alarms_->list({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->at(0).count, 50);
  EXPECT_EQ(all->at(0).severity, "critical");
  EXPECT_EQ(all->at(0).state, "active");
  EXPECT_EQ(all->at(0).device, "dev");
  // Another model version, sensor or source is another alarm.
  ASSERT_TRUE(
      this->alarms_
          ->report({.device_id = dev->id, .model = ModelRef{"leak", 4}, .severity = "minor"})
          .ok());
  ASSERT_TRUE(
      this->alarms_->report({.device_id = dev->id, .sensor = "s1", .severity = "minor"}).ok());
  EXPECT_EQ(this->alarms_->list({})->size(), 3u);
}

TYPED_TEST_P(DeviceSuite, AlarmsAreAcknowledgedClearedAndResendsStoredOnce) {
  auto dev = this->devices_->create("dev", "misc", {}, 0);
  ASSERT_TRUE(dev.ok());
  auto code = this->watchdogs_->create_code("dev", std::chrono::hours(1), 0);
  ASSERT_TRUE(code.ok());
  auto wd = this->watchdogs_->enroll(code->code, "wd");
  ASSERT_TRUE(wd.ok());
  AlarmReport r{.device_id = dev->id,
                .watchdog_id = wd->watchdog.id,
                .severity = "major",
                .client_id = "uuid-1"};
  auto first = this->alarms_->report(r);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(first->watchdog, "wd");
  auto mine = this->watchdogs_->get_by_user(wd->watchdog.user_id);
  ASSERT_TRUE(mine.ok()) << mine.status().to_string();
  EXPECT_EQ(mine->name, "wd");
  EXPECT_EQ(mine->device_id, dev->id);
  EXPECT_EQ(this->watchdogs_->get_by_user(999999).status().code(), ErrorCode::kNotFound);
  auto resent = this->alarms_->report(r);
  ASSERT_TRUE(resent.ok());
  EXPECT_EQ(resent->id, first->id);
  EXPECT_EQ(resent->count, 1);  // the same report, stored once
  r.client_id = "uuid-2";
  EXPECT_EQ(this->alarms_->report(r)->count, 2);

  auto acked = this->alarms_->acknowledge(first->id, 0);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(acked->state, "acknowledged");
  EXPECT_FALSE(acked->ack_at.empty());
  r.client_id = "uuid-3";
  EXPECT_EQ(this->alarms_->report(r)->id, first->id);  // still open: the same alarm
  auto cleared = this->alarms_->clear(first->id, 0);
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(cleared->state, "cleared");
  EXPECT_EQ(this->alarms_->clear(first->id, 0).status().code(), ErrorCode::kConflict);
  r.client_id = "uuid-4";
  auto reopened = this->alarms_->report(r);
  ASSERT_TRUE(reopened.ok());
  EXPECT_NE(reopened->id, first->id);  // cleared: a new alarm
  EXPECT_EQ(reopened->count, 1);
  EXPECT_EQ(this->alarms_->list({.state = "cleared"})->size(), 1u);
  EXPECT_EQ(this->alarms_->get(999999).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->alarms_->report({.device_id = dev->id, .severity = "loud"}).status().field(),
            "severity");
}

// Filters by model and version (names in any case), device, severity and time, where `since`
// and `until` select the alarms open at some time in [since, until); times are stored in one
// UTC form whatever offset or epoch milliseconds a report gave.
TYPED_TEST_P(DeviceSuite, AlarmsAreFilteredByModelDeviceAndTime) {
  auto& alarms = *this->alarms_;
  auto a = this->devices_->create("a", "misc", {}, 0);
  auto b = this->devices_->create("B", "misc", {}, 0);
  ASSERT_TRUE(a.ok() && b.ok());
  auto r1 = alarms.report({.device_id = a->id,
                           .model = ModelRef{"Leak", 3},
                           .severity = "minor",
                           .at = "2026-01-01T08:00:00Z"});
  auto r2 = alarms.report({.device_id = a->id,
                           .model = ModelRef{"leak", 4},
                           .severity = "major",
                           .at = "2026-01-01T12:00:00+02:00"});
  auto r3 = alarms.report({.device_id = b->id,
                           .sensor = "s1",
                           .severity = "critical",
                           .at = "1767312000000"});  // 2026-01-02T00:00:00Z
  ASSERT_TRUE(r1.ok() && r2.ok() && r3.ok()) << r1.status().to_string();
  EXPECT_EQ(r2->at, "2026-01-01T10:00:00.000Z");
  EXPECT_EQ(r3->at, "2026-01-02T00:00:00.000Z");
  auto again = alarms.report({.device_id = a->id,
                              .model = ModelRef{"LEAK", 3},
                              .severity = "warning",
                              .at = "2026-01-01T20:00:00Z"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, r1->id);
  EXPECT_EQ(again->at, "2026-01-01T08:00:00.000Z");
  EXPECT_EQ(again->last_at, "2026-01-01T20:00:00.000Z");
  EXPECT_EQ(again->severity, "minor");  // never lowered

  auto ids = [&](AlarmFilter f) {
    std::vector<int64_t> out;
    auto list = alarms.list(f);
    EXPECT_TRUE(list.ok()) << list.status().to_string();
    if (list.ok()) {
      for (const auto& alarm : *list) out.push_back(alarm.id);
    }
    return out;
  };
  using Ids = std::vector<int64_t>;
  auto t = [](const char* text) { return *parse_timestamp(text); };
  EXPECT_EQ(ids({}), (Ids{r3->id, r2->id, r1->id}));  // newest first
  EXPECT_EQ(ids({.model = "LEAK"}), (Ids{r2->id, r1->id}));
  EXPECT_EQ(ids({.model = "leak", .version = 3}), (Ids{r1->id}));
  EXPECT_EQ(ids({.device = "b"}), (Ids{r3->id}));
  EXPECT_EQ(ids({.severity = "critical"}), (Ids{r3->id}));
  EXPECT_EQ(ids({.source = "detector"}), Ids{});
  // r1 was raised at 08:00 and reported again at 20:00: open after noon.
  EXPECT_EQ(ids({.since = t("2026-01-01T12:00:00Z")}), (Ids{r3->id, r1->id}));
  EXPECT_EQ(ids({.until = t("2026-01-01T09:00:00Z")}), (Ids{r1->id}));
  EXPECT_EQ(ids({.since = t("2026-01-01T12:00:00Z"), .until = t("2026-01-01T23:00:00Z")}),
            (Ids{r1->id}));
  EXPECT_EQ(ids({.limit = 2}), (Ids{r3->id, r2->id}));
  EXPECT_EQ(ids({.limit = 2, .before_id = r2->id}), (Ids{r1->id}));

  std::vector<std::string> fields;
  for (const auto& e : AlarmStore::filter_errors({.device = "bad name",
                       .version = 3,
                       .state = "open",
                       .severity = "loud",
                       .source = "sensor",
                       .since = t("2026-01-02T00:00:00Z"),
                       .until = t("2026-01-01T00:00:00Z")})) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    fields.push_back(e.field());
  }
  EXPECT_EQ(fields, (std::vector<std::string>{"device", "version", "state", "severity", "source",
                                              "until"}));
  EXPECT_TRUE(AlarmStore::filter_errors({.model = "m", .version = 1}).empty());
  EXPECT_EQ(alarms.list({.state = "open"}).status().field(), "state");
  EXPECT_EQ(alarms.list({.model = "m", .version = 0}).status().field(), "version");
}

// What a report may carry: a sensor name, a JSON object of details up to 16 KiB, a time.
TYPED_TEST_P(DeviceSuite, BadAlarmReportsAreRefusedNamingTheField) {
  auto dev = this->devices_->create("dev", "misc", {}, 0);
  ASSERT_TRUE(dev.ok());
  auto field = [&](AlarmReport r) {
    r.device_id = dev->id;
    if (r.severity.empty()) r.severity = "minor";
    return this->alarms_->report(r).status().field();
  };
  EXPECT_EQ(field({.sensor = "bad sensor"}), "sensor");
  EXPECT_EQ(field({.model = ModelRef{"m", 0}}), "model");
  EXPECT_EQ(field({.details = "[1]"}), "details");
  EXPECT_EQ(field({.details = "{"}), "details");
  EXPECT_EQ(field({.details = R"({"x":")" + std::string(kMaxAlarmDetailsBytes, 'x') + R"("})"}),
            "details");
  EXPECT_EQ(field({.at = "yesterday"}), "at");
  EXPECT_EQ(field({.source = "human"}), "source");
  EXPECT_EQ(field({.client_id = std::string(129, 'i')}), "id");
  EXPECT_TRUE(this->alarms_->list({})->empty());
  auto ok = this->alarms_->report(
      {.device_id = dev->id, .severity = "minor", .details = R"({"temp":81.5})"});
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->details, R"({"temp":81.5})");
  EXPECT_TRUE(ok->watchdog.empty());
}

REGISTER_TYPED_TEST_SUITE_P(
    DeviceSuite, NamesAreUniqueIgnoringCaseAndStoredAsGiven, BadFieldsAreNamed,
    ListFiltersByTypeLabelsAndModelAndPages, AssigningKeepsThePreviousModelAndIssuesOneOpenCommand,
    CommandReportsOnlyMoveForward, UpdateRemoveAndRunningReports,
    AnEnrollmentCodeMakesOneWatchdogWithAToken, ExpiredCodesAndTakenNamesEnrollNothing,
    DeletingAWatchdogRevokesItsToken, ACodeRedeemedConcurrentlyMakesOneWatchdog,
    ConcurrentReportsOfOneAlarmMakeOneAlarm, AlarmsAreAcknowledgedClearedAndResendsStoredOnce,
    AlarmsAreFilteredByModelDeviceAndTime, BadAlarmReportsAreRefusedNamingTheField);

}  // namespace vigil::fleet::testing
