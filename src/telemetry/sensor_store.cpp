#include "telemetry/sensor_store.h"

#include <boost/json.hpp>

#include <cmath>

#include "core/ids.h"
#include "core/json_text.h"
#include "core/names.h"

namespace vigil::telemetry {
namespace {

namespace json = boost::json;
using store::Value;

constexpr const char* kColumns =
    "s.id, s.name, s.device_id, d.name, s.unit, s.x, s.y, s.z, s.detector, s.pinned, "
    "s.retention_days, s.created_at, s.updated_at";
constexpr const char* kFrom = " FROM sensors s LEFT JOIN devices d ON d.id = s.device_id";

std::optional<double> optional_double(const store::Rows& rows, size_t r, size_t c) {
  if (rows.is_null(r, c)) return std::nullopt;
  return rows.get_double(r, c);
}

Sensor sensor_at(const store::Rows& rows, size_t r) {
  Sensor s;
  s.id = rows.get_int(r, 0);
  s.name = rows.get_text(r, 1);
  s.device_id = rows.get_int(r, 2);
  s.device = rows.get_text(r, 3);
  s.unit = rows.get_text(r, 4);
  s.x = optional_double(rows, r, 5);
  s.y = optional_double(rows, r, 6);
  s.z = optional_double(rows, r, 7);
  s.detector = SensorStore::detector_from_json(rows.get_text(r, 8));
  s.pinned = rows.get_int(r, 9) != 0;
  s.retention_days = static_cast<int>(rows.get_int(r, 10));
  s.created_at = rows.get_text(r, 11);
  s.updated_at = rows.get_text(r, 12);
  return s;
}

Value optional_value(const std::optional<double>& v) {
  return v ? Value(*v) : Value(std::monostate{});
}

Expected<Sensor> get_in(store::Session& s, std::string_view name) {
  std::vector<Value> p{name_key(name)};
  auto rows = s.query(std::string("SELECT ") + kColumns + kFrom + " WHERE lower(s.name) = $1", p);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return not_found("no sensor named " + std::string(name));
  return sensor_at(*rows, 0);
}

// The device's id by name; kInvalidArgument "device" when there is none.
Expected<int64_t> device_id_of(store::Session& s, const std::string& device) {
  std::vector<Value> p{name_key(device)};
  auto rows = s.query("SELECT id FROM devices WHERE lower(name) = $1", p);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return invalid_field("device", "no device named " + device);
  return rows->get_int(0, 0);
}

}  // namespace

Status SensorStore::validate(const DetectorSettings& d) {
  if (d.window < kMinWindow || d.window > kMaxWindow) {
    return invalid_field("detector.window", "must be " + std::to_string(kMinWindow) + "-" +
                                                std::to_string(kMaxWindow) + " points");
  }
  if (d.exclusion < 0 || d.exclusion > d.window) {
    return invalid_field("detector.exclusion", "must be 0 to the window");
  }
  if (!std::isfinite(d.warn_percent) || d.warn_percent <= 0 || d.warn_percent > 1e6) {
    return invalid_field("detector.warn_percent", "must be above 0 (at most 1000000)");
  }
  if (!std::isfinite(d.critical_percent) || d.critical_percent <= d.warn_percent ||
      d.critical_percent > 1e6) {
    return invalid_field("detector.critical_percent",
                         "must be above warn_percent (at most 1000000)");
  }
  return {};
}

std::string SensorStore::detector_json(const DetectorSettings& d) {
  return json_text(json::object{{"window", d.window},
                                {"exclusion", d.exclusion},
                                {"warn_percent", d.warn_percent},
                                {"critical_percent", d.critical_percent},
                                {"normalize", d.normalize}});
}

DetectorSettings SensorStore::detector_from_json(std::string_view text) {
  DetectorSettings d;
  boost::system::error_code ec;
  json::value v = parse_json(text, ec);
  if (ec || !v.is_object()) return d;
  const auto& o = v.as_object();
  auto number = [&](const char* key, double fallback) {
    const json::value* f = o.if_contains(key);
    if (f == nullptr) return fallback;
    if (f->is_int64()) return static_cast<double>(f->as_int64());
    if (f->is_double()) return f->as_double();
    return fallback;
  };
  d.window = static_cast<int>(number("window", d.window));
  d.exclusion = static_cast<int>(number("exclusion", d.exclusion));
  d.warn_percent = number("warn_percent", d.warn_percent);
  d.critical_percent = number("critical_percent", d.critical_percent);
  if (const json::value* n = o.if_contains("normalize"); n != nullptr && n->is_bool()) {
    d.normalize = n->as_bool();
  }
  return d;
}

Status SensorStore::validate_fields(const SensorFields& f) const {
  if (f.unit && f.unit->size() > kMaxUnitLength) {
    return invalid_field("unit", "must be at most " + std::to_string(kMaxUnitLength) + " bytes");
  }
  for (const auto& [field, v] : {std::pair{"x", &f.x}, std::pair{"y", &f.y}, {"z", &f.z}}) {
    if (*v && **v && !std::isfinite(***v)) return invalid_field(field, "must be a finite number");
  }
  if (f.detector) VIGIL_RETURN_IF_ERROR(validate(*f.detector));
  if (f.retention_days && (*f.retention_days < 0 || *f.retention_days > kMaxRetentionDays)) {
    return invalid_field("retention_days",
                         "must be 0 (for ever) to " + std::to_string(kMaxRetentionDays));
  }
  if (f.device && !f.device->empty() && !is_valid_name(*f.device)) {
    return invalid_field("device", *name_error(*f.device));
  }
  return {};
}

Status SensorStore::apply(store::Session& s, int64_t id, const SensorFields& f) {
  std::string sets;
  std::vector<Value> p;
  auto set = [&](const char* column, Value v) {
    p.push_back(std::move(v));
    sets += std::string(sets.empty() ? "" : ", ") + column + " = $" + std::to_string(p.size());
  };
  if (f.device) {
    if (f.device->empty()) {
      set("device_id", std::monostate{});
    } else {
      auto device = device_id_of(s, *f.device);
      if (!device.ok()) return device.status();
      set("device_id", *device);
    }
  }
  if (f.unit) set("unit", *f.unit);
  if (f.x) set("x", optional_value(*f.x));
  if (f.y) set("y", optional_value(*f.y));
  if (f.z) set("z", optional_value(*f.z));
  if (f.detector) set("detector", detector_json(*f.detector));
  if (f.pinned) set("pinned", int64_t{*f.pinned ? 1 : 0});
  if (f.retention_days) set("retention_days", int64_t{*f.retention_days});
  set("updated_at", now_rfc3339());
  p.emplace_back(id);
  return s.exec("UPDATE sensors SET " + sets + " WHERE id = $" + std::to_string(p.size()), p)
      .status();
}

Expected<Sensor> SensorStore::create(std::string_view name, const SensorFields& fields) {
  if (auto why = name_error(name)) return invalid_field("name", *why);
  VIGIL_RETURN_IF_ERROR(validate_fields(fields));
  auto created = store::write_returning<Sensor>(db_, [&](store::Session& s) -> Expected<Sensor> {
    const std::string now = now_rfc3339();
    std::vector<Value> p{std::string(name), detector_json(DetectorSettings{}), now, now};
    auto rows = s.query(
        "INSERT INTO sensors (name, detector, created_at, updated_at) VALUES ($1, $2, $3, $4) "
        "RETURNING id",
        p);
    if (!rows.ok()) return rows.status();
    VIGIL_RETURN_IF_ERROR(apply(s, rows->get_int(0, 0), fields));
    return get_in(s, name);
  });
  if (created.status().code() == ErrorCode::kAlreadyExists) {
    return already_exists("a sensor named " + std::string(name) + " exists");
  }
  return created;
}

Expected<Sensor> SensorStore::get(std::string_view name) {
  return store::read_returning<Sensor>(db_, [&](store::Session& s) { return get_in(s, name); });
}

Expected<Sensor> SensorStore::get_by_id(int64_t id) {
  return store::read_returning<Sensor>(db_, [&](store::Session& s) -> Expected<Sensor> {
    std::vector<Value> p{id};
    auto rows = s.query(std::string("SELECT ") + kColumns + kFrom + " WHERE s.id = $1", p);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return not_found("no sensor " + std::to_string(id));
    return sensor_at(*rows, 0);
  });
}

Expected<std::vector<Sensor>> SensorStore::list(const SensorFilter& f) {
  if (f.limit < 1 || f.limit > 1000) return invalid_field("limit", "must be 1-1000");
  std::string sql = std::string("SELECT ") + kColumns + kFrom + " WHERE s.id > $1";
  std::vector<Value> p{f.after_id};
  auto bind = [&](Value v) {
    p.push_back(std::move(v));
    return "$" + std::to_string(p.size());
  };
  if (f.pinned) sql += " AND s.pinned = " + bind(int64_t{*f.pinned ? 1 : 0});
  if (f.device) sql += " AND lower(d.name) = " + bind(name_key(*f.device));
  sql += " ORDER BY s.id LIMIT " + bind(int64_t{f.limit});
  return store::read_returning<std::vector<Sensor>>(
      db_, [&](store::Session& s) -> Expected<std::vector<Sensor>> {
        auto rows = s.query(sql, p);
        if (!rows.ok()) return rows.status();
        std::vector<Sensor> out;
        for (size_t r = 0; r < rows->size(); ++r) out.push_back(sensor_at(*rows, r));
        return out;
      });
}

Expected<Sensor> SensorStore::update(std::string_view name, const SensorFields& fields) {
  VIGIL_RETURN_IF_ERROR(validate_fields(fields));
  return store::write_returning<Sensor>(db_, [&](store::Session& s) -> Expected<Sensor> {
    auto sensor = get_in(s, name);
    if (!sensor.ok()) return sensor.status();
    if (fields.detector == std::nullopt && fields.device == std::nullopt &&
        fields.unit == std::nullopt && !fields.x && !fields.y && !fields.z && !fields.pinned &&
        !fields.retention_days) {
      return sensor;
    }
    VIGIL_RETURN_IF_ERROR(apply(s, sensor->id, fields));
    return get_in(s, name);
  });
}

Status SensorStore::remove(std::string_view name) {
  return db_.write([&](store::Session& s) -> Status {
    auto sensor = get_in(s, name);
    if (!sensor.ok()) return sensor.status();
    std::vector<Value> p{sensor->id};
    // The chunks first: SQLite enforces the cascade only with foreign keys on, which they are,
    // but one statement per table keeps the big delete visible.
    VIGIL_RETURN_IF_ERROR(s.exec("DELETE FROM series_chunks WHERE sensor_id = $1", p).status());
    return s.exec("DELETE FROM sensors WHERE id = $1", p).status();
  });
}

}  // namespace vigil::telemetry
