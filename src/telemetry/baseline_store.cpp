#include "telemetry/baseline_store.h"

#include <cmath>

#include "core/ids.h"
#include "core/names.h"
#include "detect/baselines.h"
#include "telemetry/series_codec.h"

namespace vigil::telemetry {
namespace {

using store::Value;

std::string encode_values(std::span<const double> values) {
  std::vector<Point> points;
  points.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    points.push_back({static_cast<int64_t>(i), values[i]});
  }
  return encode_chunk(points);
}

Status decode_values(std::string_view data, std::vector<double>& out) {
  std::vector<Point> points;
  VIGIL_RETURN_IF_ERROR(decode_chunk(data, points));
  out.clear();
  out.reserve(points.size());
  for (const Point& p : points) out.push_back(p.value);
  return {};
}

Value optional_int(const std::optional<int64_t>& v) {
  return v ? Value(*v) : Value(std::monostate{});
}
Value id_or_null(int64_t id) { return id > 0 ? Value(id) : Value(std::monostate{}); }
Value text_or_null(const std::string& s) { return s.empty() ? Value(std::monostate{}) : Value(s); }

constexpr std::string_view kBaselineColumns =
    "id, name, source, sensor, from_ms, to_ms, removed, points, mean, std, created_at, "
    "created_by, data";

Expected<Baseline> baseline_at(const store::Rows& rows, size_t r, bool with_values) {
  Baseline b;
  b.id = rows.get_int(r, 0);
  b.name = rows.get_text(r, 1);
  b.source = rows.get_text(r, 2);
  b.sensor = rows.get_text(r, 3);
  if (!rows.is_null(r, 4)) b.from_ms = rows.get_int(r, 4);
  if (!rows.is_null(r, 5)) b.to_ms = rows.get_int(r, 5);
  b.removed = static_cast<int>(rows.get_int(r, 6));
  b.points = rows.get_int(r, 7);
  b.mean = rows.get_double(r, 8);
  b.std = rows.get_double(r, 9);
  b.created_at = rows.get_text(r, 10);
  b.created_by = rows.get_int(r, 11);
  if (with_values) VIGIL_RETURN_IF_ERROR(decode_values(rows.get_blob(r, 12), b.values));
  return b;
}

constexpr std::string_view kSensorColumns =
    "id, sensor_id, at, action, baseline_id, baseline, by_user, points, mean, std, details, data";

Expected<SensorBaseline> sensor_baseline_at(const store::Rows& rows, size_t r, bool with_values) {
  SensorBaseline b;
  b.id = rows.get_int(r, 0);
  b.sensor_id = rows.get_int(r, 1);
  b.at = rows.get_text(r, 2);
  b.action = rows.get_text(r, 3);
  b.baseline_id = rows.get_int(r, 4);
  b.baseline = rows.get_text(r, 5);
  b.by_user = rows.get_int(r, 6);
  b.points = rows.get_int(r, 7);
  b.mean = rows.get_double(r, 8);
  b.std = rows.get_double(r, 9);
  b.details = rows.get_text(r, 10);
  if (with_values) VIGIL_RETURN_IF_ERROR(decode_values(rows.get_blob(r, 11), b.values));
  return b;
}

Expected<Baseline> get_in(store::Session& s, std::string_view name, bool with_values) {
  std::vector<Value> p{name_key(name)};
  auto rows = s.query(
      "SELECT " + std::string(kBaselineColumns) + " FROM baselines WHERE lower(name) = $1", p);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return not_found("no baseline named " + std::string(name));
  return baseline_at(*rows, 0, with_values);
}

}  // namespace

Status BaselineStore::check_values(std::span<const double> values, std::string_view field) {
  size_t finite = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(values[i])) {
      ++finite;
    } else if (!std::isnan(values[i])) {
      return invalid_field(std::string(field), "value " + std::to_string(i) + " is infinite");
    }
  }
  if (values.size() > kMaxBaselinePoints || finite < kMinBaselinePoints) {
    return invalid_field(std::string(field), "must hold " + std::to_string(kMinBaselinePoints) +
                                                 " to " + std::to_string(kMaxBaselinePoints) +
                                                 " values (it holds " +
                                                 std::to_string(values.size()) + ", " +
                                                 std::to_string(finite) + " of them numbers)");
  }
  return {};
}

Expected<Baseline> BaselineStore::create(const NewBaseline& b) {
  if (auto why = name_error(b.name)) return invalid_field("name", *why);
  VIGIL_RETURN_IF_ERROR(check_values(b.values));
  const detect::Moments m = detect::moments(b.values);
  auto created =
      store::write_returning<Baseline>(db_, [&](store::Session& s) -> Expected<Baseline> {
        std::vector<Value> p{b.name,
                             b.source,
                             text_or_null(b.sensor),
                             optional_int(b.from_ms),
                             optional_int(b.to_ms),
                             int64_t{b.removed},
                             static_cast<int64_t>(b.values.size()),
                             m.mean,
                             m.std,
                             store::Blob{encode_values(b.values)},
                             now_rfc3339(),
                             id_or_null(b.created_by)};
        VIGIL_RETURN_IF_ERROR(
            s.exec(
                 "INSERT INTO baselines (name, source, sensor, from_ms, to_ms, removed, points, "
                 "mean, std, data, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                 "$9, $10, $11, $12)",
                 p)
                .status());
        return get_in(s, b.name, false);
      });
  if (created.status().code() == ErrorCode::kAlreadyExists) {
    return already_exists("a baseline named " + b.name + " exists");
  }
  return created;
}

Expected<bool> BaselineStore::create_if_absent(const NewBaseline& b) {
  auto existing = get(b.name, false);
  if (existing.ok()) return false;
  if (existing.status().code() != ErrorCode::kNotFound) return existing.status();
  auto created = create(b);
  if (created.status().code() == ErrorCode::kAlreadyExists) return false;  // another node
  if (!created.ok()) return created.status();
  return true;
}

Expected<Baseline> BaselineStore::get(std::string_view name, bool with_values) {
  return store::read_returning<Baseline>(
      db_, [&](store::Session& s) { return get_in(s, name, with_values); });
}

Expected<std::vector<Baseline>> BaselineStore::list(int limit, int64_t after_id) {
  if (limit < 1 || limit > 1000) return invalid_field("limit", "must be 1-1000");
  std::vector<Value> p{after_id, int64_t{limit}};
  auto rows = db_.query("SELECT " + std::string(kBaselineColumns) +
                            " FROM baselines WHERE id > $1 ORDER BY id LIMIT $2",
                        p);
  if (!rows.ok()) return rows.status();
  std::vector<Baseline> out;
  for (size_t r = 0; r < rows->size(); ++r) {
    auto b = baseline_at(*rows, r, false);
    if (!b.ok()) return b.status();
    out.push_back(std::move(*b));
  }
  return out;
}

Expected<std::vector<Baseline>> BaselineStore::all(size_t max) {
  std::vector<Value> p{static_cast<int64_t>(max)};
  auto rows = db_.query(
      "SELECT " + std::string(kBaselineColumns) + " FROM baselines ORDER BY id LIMIT $1", p);
  if (!rows.ok()) return rows.status();
  std::vector<Baseline> out;
  for (size_t r = 0; r < rows->size(); ++r) {
    auto b = baseline_at(*rows, r, true);
    if (!b.ok()) return b.status();
    out.push_back(std::move(*b));
  }
  return out;
}

Status BaselineStore::remove(std::string_view name) {
  std::vector<Value> p{name_key(name)};
  auto n = db_.exec("DELETE FROM baselines WHERE lower(name) = $1", p);
  if (!n.ok()) return n.status();
  if (*n == 0) return not_found("no baseline named " + std::string(name));
  return {};
}

Expected<SensorBaseline> BaselineStore::set_for(int64_t sensor_id, const SensorBaseline& b) {
  VIGIL_RETURN_IF_ERROR(check_values(b.values));
  const detect::Moments m = detect::moments(b.values);
  return store::write_returning<SensorBaseline>(
      db_, [&](store::Session& s) -> Expected<SensorBaseline> {
        std::vector<Value> p{sensor_id,
                             now_rfc3339(),
                             b.action,
                             id_or_null(b.baseline_id),
                             text_or_null(b.baseline),
                             id_or_null(b.by_user),
                             static_cast<int64_t>(b.values.size()),
                             m.mean,
                             m.std,
                             store::Blob{encode_values(b.values)},
                             b.details};
        auto rows = s.query(
            "INSERT INTO sensor_baselines (sensor_id, at, action, baseline_id, baseline, by_user, "
            "points, mean, std, data, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
            "$11) RETURNING id",
            p);
        if (!rows.ok()) {
          // The sensor went meanwhile (the foreign key): say so as the sensor's absence.
          if (rows.status().code() == ErrorCode::kConflict ||
              rows.status().code() == ErrorCode::kInvalidArgument) {
            return not_found("the sensor no longer exists");
          }
          return rows.status();
        }
        std::vector<Value> q{rows->get_int(0, 0)};
        auto got = s.query(
            "SELECT " + std::string(kSensorColumns) + " FROM sensor_baselines WHERE id = $1", q);
        if (!got.ok()) return got.status();
        return sensor_baseline_at(*got, 0, false);
      });
}

Expected<std::optional<SensorBaseline>> BaselineStore::current(int64_t sensor_id,
                                                               bool with_values) {
  using Out = std::optional<SensorBaseline>;
  std::vector<Value> p{sensor_id};
  auto rows = db_.query("SELECT " + std::string(kSensorColumns) +
                            " FROM sensor_baselines WHERE sensor_id = $1 ORDER BY id DESC LIMIT 1",
                        p);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Out();
  auto b = sensor_baseline_at(*rows, 0, with_values);
  if (!b.ok()) return b.status();
  return Out(std::move(*b));
}

Expected<std::vector<SensorBaseline>> BaselineStore::history(int64_t sensor_id, int limit) {
  std::vector<Value> p{sensor_id, int64_t{limit}};
  auto rows = db_.query("SELECT " + std::string(kSensorColumns) +
                            " FROM sensor_baselines WHERE sensor_id = $1 ORDER BY id DESC LIMIT $2",
                        p);
  if (!rows.ok()) return rows.status();
  std::vector<SensorBaseline> out;
  for (size_t r = 0; r < rows->size(); ++r) {
    auto b = sensor_baseline_at(*rows, r, false);
    if (!b.ok()) return b.status();
    out.push_back(std::move(*b));
  }
  return out;
}

}  // namespace vigil::telemetry
