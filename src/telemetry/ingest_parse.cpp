#include "telemetry/ingest_parse.h"

#include <boost/json.hpp>

#include <charconv>
#include <cmath>
#include <unordered_map>

#include "core/ids.h"
#include "core/names.h"

namespace vigil::telemetry {
namespace {

namespace json = boost::json;

Status too_many() {
  return Status(ErrorCode::kResourceExhausted,
                "more than " + std::to_string(kMaxIngestPoints) + " points in one request");
}

// Gathers points per sensor name, in first-seen order.
class Collector {
 public:
  std::vector<Point>& of(std::string_view sensor) {
    auto [it, fresh] = index_.try_emplace(std::string(sensor), out_.size());
    if (fresh) out_.push_back({std::string(sensor), {}});
    return out_[it->second].points;
  }
  std::vector<NamedPoints> take() { return std::move(out_); }

 private:
  std::unordered_map<std::string, size_t> index_;
  std::vector<NamedPoints> out_;
};

std::optional<int64_t> json_time(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.as_uint64());
  }
  if (v.is_string()) return parse_time_ms(v.as_string());
  return std::nullopt;
}

std::optional<double> json_value(const json::value& v) {
  double d = 0;
  if (v.is_double()) {
    d = v.as_double();
  } else if (v.is_int64()) {
    d = static_cast<double>(v.as_int64());
  } else if (v.is_uint64()) {
    d = static_cast<double>(v.as_uint64());
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

Status check_sensor(std::string_view name, const std::string& field) {
  if (auto why = name_error(name)) return invalid_field(field, *why);
  return {};
}

constexpr const char* kTimeRule = "must be RFC 3339 or epoch milliseconds";
constexpr const char* kValueRule = "must be a finite number";

}  // namespace

std::optional<int64_t> parse_time_ms(std::string_view text) {
  auto t = parse_timestamp(text);
  if (!t) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

Expected<std::vector<NamedPoints>> parse_ingest_json(const json::object& body) {
  const json::value* points = body.if_contains("points");
  if (points == nullptr || !points->is_array()) {
    return invalid_field("points", "must be an array of points");
  }
  const json::array& list = points->as_array();
  if (list.size() > kMaxIngestPoints) return too_many();
  Collector c;
  if (const json::value* sensor = body.if_contains("sensor")) {
    // {"sensor", "points": [[at, value], ...]}
    if (!sensor->is_string()) return invalid_field("sensor", "must be a sensor's name");
    VIGIL_RETURN_IF_ERROR(check_sensor(sensor->as_string(), "sensor"));
    for (const auto& [key, v] : body) {
      if (key != "sensor" && key != "points") return invalid_field(key, "unknown field");
    }
    std::vector<Point>& out = c.of(sensor->as_string());
    out.reserve(list.size());
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string field = "points[" + std::to_string(i) + "]";
      const json::array* pair = list[i].if_array();
      if (pair == nullptr || pair->size() != 2) return invalid_field(field, "must be [at, value]");
      auto at = json_time((*pair)[0]);
      if (!at) return invalid_field(field + "[0]", kTimeRule);
      auto value = json_value((*pair)[1]);
      if (!value) return invalid_field(field + "[1]", kValueRule);
      out.push_back({*at, *value});
    }
    return c.take();
  }
  for (const auto& [key, v] : body) {
    if (key != "points") return invalid_field(key, "unknown field");
  }
  // {"points": [{"sensor", "at", "value"}, ...]}
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string field = "points[" + std::to_string(i) + "]";
    const json::object* p = list[i].if_object();
    if (p == nullptr) return invalid_field(field, "must be {\"sensor\", \"at\", \"value\"}");
    const json::value* sensor = p->if_contains("sensor");
    const json::value* at = p->if_contains("at");
    const json::value* value = p->if_contains("value");
    if (sensor == nullptr || !sensor->is_string()) {
      return invalid_field(field + ".sensor", "must be a sensor's name");
    }
    VIGIL_RETURN_IF_ERROR(check_sensor(sensor->as_string(), field + ".sensor"));
    auto t = at ? json_time(*at) : std::nullopt;
    if (!t) return invalid_field(field + ".at", kTimeRule);
    auto v = value ? json_value(*value) : std::nullopt;
    if (!v) return invalid_field(field + ".value", kValueRule);
    if (p->size() != 3) return invalid_field(field, "has members other than sensor, at, value");
    c.of(sensor->as_string()).push_back({*t, *v});
  }
  return c.take();
}

Expected<std::vector<NamedPoints>> parse_ingest_csv(std::string_view text) {
  Collector c;
  size_t count = 0, line_no = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::string field = "line " + std::to_string(line_no);
    const size_t a = line.find(',');
    const size_t b = a == std::string_view::npos ? a : line.find(',', a + 1);
    if (b == std::string_view::npos || line.find(',', b + 1) != std::string_view::npos) {
      return invalid_field(field, "must be sensor,at,value");
    }
    const std::string_view sensor = line.substr(0, a), at = line.substr(a + 1, b - a - 1),
                           value = line.substr(b + 1);
    if (line_no == 1 && sensor == "sensor" && at == "at" && value == "value") continue;
    VIGIL_RETURN_IF_ERROR(check_sensor(sensor, field));
    auto t = parse_time_ms(at);
    if (!t) return invalid_field(field, std::string("at ") + kTimeRule);
    double v = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || ptr != value.data() + value.size() || !std::isfinite(v)) {
      return invalid_field(field, std::string("value ") + kValueRule);
    }
    if (++count > kMaxIngestPoints) return too_many();
    c.of(sensor).push_back({*t, v});
  }
  return c.take();
}

}  // namespace vigil::telemetry
