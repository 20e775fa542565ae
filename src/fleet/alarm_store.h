// AlarmStore: alarms from watchdogs (and, later, detectors). The same open alarm — one device,
// model version, source and sensor — is never duplicated: the store enforces it with a unique
// key held while the alarm is open (active or acknowledged), and a report is one upsert that
// bumps count and last_at and raises the severity to the highest reported, so concurrent
// reports on many connections or nodes meet in one row on SQLite and PostgreSQL alike. A report
// a watchdog resends with the same client id is stored once. Clearing frees the key: the next
// report opens a new alarm.
//
// Thread-safe; every method blocks on the store. Errors: kInvalidArgument names the field;
// kNotFound for an unknown alarm; kConflict for ack/clear of a cleared alarm; kUnavailable
// when the store is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fleet/device_store.h"
#include "store/database.h"

namespace vigil::fleet {

struct AlarmReport {
  int64_t device_id = 0;
  int64_t watchdog_id = 0;  // 0: none (a detector)
  std::string sensor;       // empty: none
  std::optional<ModelRef> model;
  std::string severity;             // warning | minor | major | critical
  std::string source = "watchdog";  // watchdog | detector
  std::string details = "{}";       // a JSON object's text
  std::string at;                   // RFC 3339; empty: now
  std::string client_id;            // with watchdog_id: a resend is stored once
};

struct Alarm {
  int64_t id = 0;
  std::string at;
  std::string last_at;
  int64_t count = 0;
  int64_t device_id = 0;
  std::string device;
  int64_t watchdog_id = 0;
  std::string sensor;
  std::optional<ModelRef> model;
  std::string severity;
  std::string source;
  std::string state;  // active | acknowledged | cleared
  std::string details;
  int64_t ack_by = 0;
  std::string ack_at;
  int64_t cleared_by = 0;
  std::string cleared_at;
};

struct AlarmFilter {
  std::optional<std::string> device;
  std::optional<std::string> state;
  std::optional<std::string> severity;
  std::optional<std::string> source;
  int limit = 50;
  int64_t before_id = 0;  // paging, newest first: alarms with a smaller id (0: from the newest)
};

class AlarmStore {
 public:
  explicit AlarmStore(store::Database& db) : db_(db) {}

  Expected<Alarm> report(const AlarmReport& report);
  Expected<Alarm> get(int64_t id);
  Expected<std::vector<Alarm>> list(const AlarmFilter& filter);
  Expected<Alarm> acknowledge(int64_t id, int64_t by_user);
  Expected<Alarm> clear(int64_t id, int64_t by_user);

  // 1 warning … 4 critical; 0 for anything else.
  static int severity_rank(std::string_view severity);

 private:
  Expected<Alarm> report_once(const AlarmReport& report);
  Expected<Alarm> change_state(int64_t id, int64_t by_user, bool clear);

  store::Database& db_;
};

}  // namespace vigil::fleet
