#include "fleet/alarm_store.h"

#include <boost/json/parse.hpp>

#include "core/ids.h"
#include "core/json_text.h"
#include "core/names.h"

namespace vigil::fleet {
namespace {

using store::Value;

constexpr std::string_view kColumns =
    "a.id, a.at, a.last_at, a.count, a.device_id, d.name, a.watchdog_id, a.sensor, a.model, "
    "a.model_version, a.severity, a.source, a.state, a.details, a.ack_by, a.ack_at, "
    "a.cleared_by, a.cleared_at, w.name";
constexpr std::string_view kFrom =
    " FROM alarms a LEFT JOIN devices d ON d.id = a.device_id "
    "LEFT JOIN watchdogs w ON w.id = a.watchdog_id";

Alarm alarm_at(const store::Rows& rows, size_t r) {
  Alarm a;
  a.id = rows.get_int(r, 0);
  a.at = rows.get_text(r, 1);
  a.last_at = rows.get_text(r, 2);
  a.count = rows.get_int(r, 3);
  a.device_id = rows.get_int(r, 4);
  a.device = rows.get_text(r, 5);
  a.watchdog_id = rows.get_int(r, 6);
  a.sensor = rows.get_text(r, 7);
  if (!rows.is_null(r, 8)) a.model = ModelRef{rows.get_text(r, 8), rows.get_int(r, 9)};
  a.severity = rows.get_text(r, 10);
  a.source = rows.get_text(r, 11);
  a.state = rows.get_text(r, 12);
  a.details = rows.get_text(r, 13);
  a.ack_by = rows.get_int(r, 14);
  a.ack_at = rows.get_text(r, 15);
  a.cleared_by = rows.get_int(r, 16);
  a.cleared_at = rows.get_text(r, 17);
  a.watchdog = rows.get_text(r, 18);
  return a;
}

Expected<Alarm> get_in(store::Session& s, int64_t id) {
  Value p(id);
  auto rows = s.query("SELECT " + std::string(kColumns) + std::string(kFrom) + " WHERE a.id = $1",
                      std::span(&p, 1));
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return not_found("no alarm " + std::to_string(id));
  return alarm_at(*rows, 0);
}

Status validate(const AlarmReport& r) {
  if (r.device_id <= 0 && (r.source != "detector" || r.sensor.empty())) {
    return invalid_field("device", "required (only a detector's alarm on a sensor may have none)");
  }
  if (AlarmStore::severity_rank(r.severity) == 0) {
    return invalid_field("severity", "must be warning, minor, major or critical");
  }
  if (r.source != "watchdog" && r.source != "detector") {
    return invalid_field("source", "must be watchdog or detector");
  }
  if (r.model && (name_error(r.model->name) || r.model->version < 1)) {
    return invalid_field("model", "must name a model and a version from 1");
  }
  if (!r.sensor.empty()) {
    if (auto why = name_error(r.sensor)) return invalid_field("sensor", *why);
  }
  if (r.details.size() > kMaxAlarmDetailsBytes) return invalid_field("details", "at most 16 KiB");
  boost::system::error_code ec;
  if (!parse_json(r.details, ec).is_object()) {
    return invalid_field("details", "must be a JSON object");
  }
  if (r.client_id.size() > 128) return invalid_field("id", "at most 128 characters");
  if (!r.at.empty() && !parse_timestamp(r.at)) {
    return invalid_field("at", "must be RFC 3339 or epoch milliseconds");
  }
  return {};
}

// What makes two reports the same open alarm.
std::string open_key(const AlarmReport& r) {
  std::string key = std::to_string(r.device_id) + "|" + r.source + "|" + name_key(r.sensor) + "|";
  if (r.model) key += name_key(r.model->name) + ":" + std::to_string(r.model->version);
  return key;
}

// The alarm a watchdog's client id was stored as, if it was.
Expected<std::optional<int64_t>> reported_before(store::Session& s, const AlarmReport& r) {
  if (r.watchdog_id == 0 || r.client_id.empty()) return std::optional<int64_t>();
  std::vector<Value> p{r.watchdog_id, r.client_id};
  auto rows =
      s.query("SELECT alarm_id FROM alarm_reports WHERE watchdog_id = $1 AND client_id = $2", p);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(rows->get_int(0, 0));
}

}  // namespace

int AlarmStore::severity_rank(std::string_view severity) {
  if (severity == "warning") return 1;
  if (severity == "minor") return 2;
  if (severity == "major") return 3;
  if (severity == "critical") return 4;
  return 0;
}

Expected<Alarm> AlarmStore::report(const AlarmReport& report) {
  VIGIL_RETURN_IF_ERROR(validate(report));
  auto stored = report_once(report);
  // Two sends of one client id at once: the loser's alarm_reports row collided, and its
  // transaction (the count it added too) rolled back; the winner's alarm is the answer.
  if (stored.status().code() == ErrorCode::kAlreadyExists) stored = report_once(report);
  return stored;
}

Expected<Alarm> AlarmStore::report_once(const AlarmReport& r) {
  const bool pg = db_.dialect() == store::Dialect::kPostgres;
  const std::string greatest = pg ? "GREATEST" : "MAX";
  // One fixed-width UTC form, so timestamps order as text in both dialects.
  const std::string at = r.at.empty() ? now_rfc3339() : format_rfc3339(*parse_timestamp(r.at));
  return store::write_returning<Alarm>(db_, [&](store::Session& s) -> Expected<Alarm> {
    auto before = reported_before(s, r);
    if (!before.ok()) return before.status();
    if (*before) return get_in(s, **before);
    std::vector<Value> p{at,
                         r.device_id > 0 ? Value(r.device_id) : Value(std::monostate{}),
                         r.watchdog_id > 0 ? Value(r.watchdog_id) : Value(std::monostate{}),
                         r.sensor.empty() ? Value(std::monostate{}) : Value(r.sensor),
                         r.model ? Value(r.model->name) : Value(std::monostate{}),
                         r.model ? Value(r.model->version) : Value(std::monostate{}),
                         r.severity,
                         int64_t{severity_rank(r.severity)},
                         r.source,
                         r.details,
                         open_key(r)};
    auto rows = s.query(
        "INSERT INTO alarms (at, last_at, count, device_id, watchdog_id, sensor, model, "
        "model_version, severity, severity_rank, source, state, details, open_key) "
        "VALUES ($1, $1, 1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $11) "
        "ON CONFLICT (open_key) DO UPDATE SET count = alarms.count + 1, "
        "last_at = " +
            greatest +
            "(alarms.last_at, excluded.last_at), "
            "severity = CASE WHEN excluded.severity_rank > alarms.severity_rank "
            "THEN excluded.severity ELSE alarms.severity END, "
            "severity_rank = " +
            greatest +
            "(alarms.severity_rank, excluded.severity_rank), "
            "details = excluded.details RETURNING id",
        p);
    if (!rows.ok()) return rows.status();
    const int64_t id = rows->get_int(0, 0);
    if (r.watchdog_id > 0 && !r.client_id.empty()) {
      std::vector<Value> q{r.watchdog_id, r.client_id, id, at};
      VIGIL_RETURN_IF_ERROR(s.exec("INSERT INTO alarm_reports (watchdog_id, client_id, alarm_id, "
                                   "at) VALUES ($1, $2, $3, $4)",
                                   q)
                                .status());
    }
    return get_in(s, id);
  });
}

Expected<Alarm> AlarmStore::get(int64_t id) {
  return store::read_returning<Alarm>(db_, [&](store::Session& s) { return get_in(s, id); });
}

std::vector<Status> AlarmStore::filter_errors(const AlarmFilter& f) {
  std::vector<Status> errors;
  if (f.limit < 1 || f.limit > 1000) errors.push_back(invalid_field("limit", "must be 1-1000"));
  for (auto [field, name] : {std::pair{"device", &f.device}, std::pair{"model", &f.model},
                             std::pair{"sensor", &f.sensor}}) {
    if (!*name) continue;
    if (auto why = name_error(**name)) errors.push_back(invalid_field(field, *why));
  }
  if (f.version && (*f.version < 1 || !f.model)) {
    errors.push_back(invalid_field("version", "must be a version number from 1, with model"));
  }
  if (f.state && *f.state != "active" && *f.state != "acknowledged" && *f.state != "cleared") {
    errors.push_back(invalid_field("state", "must be active, acknowledged or cleared"));
  }
  if (f.severity && severity_rank(*f.severity) == 0) {
    errors.push_back(invalid_field("severity", "must be warning, minor, major or critical"));
  }
  if (f.source && *f.source != "watchdog" && *f.source != "detector") {
    errors.push_back(invalid_field("source", "must be watchdog or detector"));
  }
  if (f.since && f.until && *f.until <= *f.since) {
    errors.push_back(invalid_field("until", "must be after since"));
  }
  return errors;
}

Expected<std::vector<Alarm>> AlarmStore::list(const AlarmFilter& f) {
  if (auto errors = filter_errors(f); !errors.empty()) return errors.front();
  std::string sql = "SELECT " + std::string(kColumns) + std::string(kFrom) + " WHERE 1 = 1";
  std::vector<Value> p;
  auto bind = [&](Value v) {
    p.push_back(std::move(v));
    return "$" + std::to_string(p.size());
  };
  if (f.before_id > 0) sql += " AND a.id < " + bind(f.before_id);
  if (f.device) sql += " AND lower(d.name) = " + bind(name_key(*f.device));
  if (f.model) sql += " AND lower(a.model) = " + bind(name_key(*f.model));
  if (f.version) sql += " AND a.model_version = " + bind(*f.version);
  if (f.state) sql += " AND a.state = " + bind(*f.state);
  if (f.severity) sql += " AND a.severity = " + bind(*f.severity);
  if (f.source) sql += " AND a.source = " + bind(*f.source);
  if (f.sensor) sql += " AND lower(a.sensor) = " + bind(name_key(*f.sensor));
  // Stored timestamps are fixed-width UTC text: they compare as text.
  if (f.since) sql += " AND a.last_at >= " + bind(format_rfc3339(*f.since));
  if (f.until) sql += " AND a.at < " + bind(format_rfc3339(*f.until));
  sql += " ORDER BY a.id DESC LIMIT " + bind(int64_t{f.limit});
  auto rows = db_.query(sql, p);
  if (!rows.ok()) return rows.status();
  std::vector<Alarm> out;
  for (size_t r = 0; r < rows->size(); ++r) out.push_back(alarm_at(*rows, r));
  return out;
}

Expected<Alarm> AlarmStore::acknowledge(int64_t id, int64_t by_user) {
  return change_state(id, by_user, false);
}

Expected<Alarm> AlarmStore::clear(int64_t id, int64_t by_user) {
  return change_state(id, by_user, true);
}

Expected<std::optional<Alarm>> AlarmStore::clear_open(const AlarmReport& key) {
  using Out = std::optional<Alarm>;
  return store::write_returning<Out>(db_, [&](store::Session& s) -> Expected<Out> {
    std::vector<Value> p{now_rfc3339(), open_key(key)};
    auto rows = s.query(
        "UPDATE alarms SET state = 'cleared', cleared_at = $1, cleared_by = NULL, "
        "open_key = NULL WHERE open_key = $2 RETURNING id",
        p);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Out();
    auto a = get_in(s, rows->get_int(0, 0));
    if (!a.ok()) return a.status();
    return Out(std::move(*a));
  });
}

Expected<Alarm> AlarmStore::change_state(int64_t id, int64_t by_user, bool clear) {
  return store::write_returning<Alarm>(db_, [&](store::Session& s) -> Expected<Alarm> {
    auto a = get_in(s, id);
    if (!a.ok()) return a.status();
    if (a->state == "cleared") return Status(ErrorCode::kConflict, "the alarm is cleared");
    std::vector<Value> p{now_rfc3339(), by_user > 0 ? Value(by_user) : Value(std::monostate{}), id};
    const char* sql = clear ? "UPDATE alarms SET state = 'cleared', cleared_at = $1, "
                              "cleared_by = $2, open_key = NULL WHERE id = $3"
                            : "UPDATE alarms SET state = 'acknowledged', ack_at = $1, "
                              "ack_by = $2 WHERE id = $3";
    VIGIL_RETURN_IF_ERROR(s.exec(sql, p).status());
    return get_in(s, id);
  });
}

}  // namespace vigil::fleet
