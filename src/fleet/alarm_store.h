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

#include <chrono>
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
  int64_t device_id = 0;    // 0: none (only a detector's alarm on a sensor)
  int64_t watchdog_id = 0;  // 0: none (a detector)
  std::string sensor;       // empty: none; else a name (1-64 of A-Z a-z 0-9 . _ -)
  std::optional<ModelRef> model;
  std::string severity;             // warning | minor | major | critical
  std::string source = "watchdog";  // watchdog | detector
  std::string details = "{}";       // a JSON object's text, at most kMaxAlarmDetailsBytes bytes
  std::string at;                   // RFC 3339 or epoch milliseconds (stored as UTC); empty: now
  std::string client_id;            // with watchdog_id: a resend is stored once
};

// An alarm's details, as JSON text, at most (API.md "Alarms"; the device WebSocket and the REST
// fallback refuse larger ones before they get here).
inline constexpr size_t kMaxAlarmDetailsBytes = 16 * 1024;

struct Alarm {
  int64_t id = 0;
  std::string at;
  std::string last_at;
  int64_t count = 0;
  int64_t device_id = 0;  // 0: none (a detector's alarm on a sensor without a device)
  std::string device;     // empty: none
  int64_t watchdog_id = 0;
  std::string watchdog;  // its name; empty: none, or deleted since
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

// Every filter set must match. Names compare ignoring case.
struct AlarmFilter {
  std::optional<std::string> device;
  std::optional<std::string> model;  // the model's name
  std::optional<int64_t> version;    // with model: that version
  std::optional<std::string> state;
  std::optional<std::string> severity;
  std::optional<std::string> source;
  std::optional<std::string> sensor;
  // The alarms open at some time in [since, until): reported last at or after `since`
  // (last_at >= since), raised before `until` (at < until).
  std::optional<std::chrono::system_clock::time_point> since;
  std::optional<std::chrono::system_clock::time_point> until;
  int limit = 50;
  int64_t before_id = 0;  // paging, newest first: alarms with a smaller id (0: from the newest)
};

class AlarmStore {
 public:
  explicit AlarmStore(store::Database& db) : db_(db) {}

  Expected<Alarm> report(const AlarmReport& report);
  Expected<Alarm> get(int64_t id);
  // Newest first. kInvalidArgument for a bad filter (the first of filter_errors).
  Expected<std::vector<Alarm>> list(const AlarmFilter& filter);
  Expected<Alarm> acknowledge(int64_t id, int64_t by_user);
  Expected<Alarm> clear(int64_t id, int64_t by_user);
  // Clears, by the server (cleared_by none), the open alarm of the key `key` names (its device,
  // source, sensor and model; severity and details are not looked at): the alarm cleared, or
  // nullopt when none was open.
  Expected<std::optional<Alarm>> clear_open(const AlarmReport& key);

  // 1 warning … 4 critical; 0 for anything else.
  static int severity_rank(std::string_view severity);
  // An error naming the field for each bad value of a filter (none: it is valid).
  static std::vector<Status> filter_errors(const AlarmFilter& filter);

 private:
  Expected<Alarm> report_once(const AlarmReport& report);
  Expected<Alarm> change_state(int64_t id, int64_t by_user, bool clear);

  store::Database& db_;
};

}  // namespace vigil::fleet
