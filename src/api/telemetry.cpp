#include "api/telemetry.h"

#include <boost/json.hpp>

#include <charconv>
#include <chrono>
#include <cmath>

#include "api/fleet_json.h"
#include "api/handler.h"
#include "api/json_body.h"
#include "api/schemas.h"
#include "api/sensor_events.h"
#include "core/ids.h"
#include "core/strings.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using net::http::verb;
using telemetry::DetectorSettings;
using telemetry::Sensor;
using telemetry::SensorFields;

namespace {
constexpr int64_t kDayMs = 86'400'000;
}  // namespace

namespace {

json::value number_or_null(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object detector_json(const DetectorSettings& d) {
  return {{"window", d.window},
          {"exclusion", d.exclusion},
          {"warn_percent", d.warn_percent},
          {"critical_percent", d.critical_percent},
          {"normalize", d.normalize}};
}

json::object sensor_json(const Sensor& s) {
  return {{"name", s.name},
          {"device", text_or_null(s.device)},
          {"unit", s.unit},
          {"x", number_or_null(s.x)},
          {"y", number_or_null(s.y)},
          {"z", number_or_null(s.z)},
          {"detector", detector_json(s.detector)},
          {"pinned", s.pinned},
          {"retention_days", s.retention_days},
          {"created_at", s.created_at},
          {"updated_at", s.updated_at}};
}

// The detector members given, over `base`.
struct DetectorPatch {
  std::optional<int64_t> window, exclusion;
  std::optional<double> warn, critical;
  std::optional<bool> normalize;
  bool any = false;
  DetectorSettings over(DetectorSettings base) const {
    if (window) {
      base.window = static_cast<int>(*window);
      if (!exclusion) base.exclusion = base.window / 2;  // the default follows the window
    }
    if (exclusion) base.exclusion = static_cast<int>(*exclusion);
    if (warn) base.warn_percent = *warn;
    if (critical) base.critical_percent = *critical;
    if (normalize) base.normalize = *normalize;
    return base;
  }
};

// A finite number (or null, when `nullable`): the outer optional says whether it was given.
std::optional<std::optional<double>> read_number(const json::object& o, const char* name,
                                                 const std::string& field, Fields& f,
                                                 bool nullable) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_null() && nullable) return std::optional<double>();
  double d = NAN;
  if (v->is_double()) d = v->as_double();
  if (v->is_int64()) d = static_cast<double>(v->as_int64());
  if (v->is_uint64()) d = static_cast<double>(v->as_uint64());
  if (!std::isfinite(d)) {
    f.add(field, nullable ? "must be a number or null" : "must be a number");
    return std::nullopt;
  }
  return std::optional<double>(d);
}

std::optional<int64_t> read_integer(const json::object& o, const char* name,
                                    const std::string& field, Fields& f) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_int64() || v->as_int64() < INT32_MIN || v->as_int64() > INT32_MAX) {
    f.add(field, "must be an integer");
    return std::nullopt;
  }
  return v->as_int64();
}

DetectorPatch read_detector(const json::object& body, Fields& f) {
  DetectorPatch p;
  const json::value* v = body.if_contains("detector");
  if (v == nullptr) return p;
  const json::object* d = v->if_object();
  if (d == nullptr) {
    f.add("detector", "must be an object");
    return p;
  }
  p.any = true;
  p.window = read_integer(*d, "window", "detector.window", f);
  p.exclusion = read_integer(*d, "exclusion", "detector.exclusion", f);
  if (auto w = read_number(*d, "warn_percent", "detector.warn_percent", f, false)) p.warn = *w;
  if (auto c = read_number(*d, "critical_percent", "detector.critical_percent", f, false)) {
    p.critical = *c;
  }
  if (const json::value* n = d->if_contains("normalize")) {
    if (n->is_bool()) {
      p.normalize = n->as_bool();
    } else {
      f.add("detector.normalize", "must be true or false");
    }
  }
  for (const auto& [key, value] : *d) {
    if (key != "window" && key != "exclusion" && key != "warn_percent" &&
        key != "critical_percent" && key != "normalize") {
      f.add("detector." + std::string(key), "unknown field");
    }
  }
  return p;
}

// The members of a sensor's body other than its name and detector.
SensorFields read_sensor_fields(const json::object& body, Fields& f) {
  SensorFields s;
  if (const json::value* d = body.if_contains("device")) {
    if (d->is_null()) {
      s.device = "";
    } else if (d->is_string()) {
      s.device = std::string(d->as_string());
    } else {
      f.add("device", "must be a device's name or null");
    }
  }
  s.unit = f.optional_string("unit");
  s.x = read_number(body, "x", "x", f, true);
  s.y = read_number(body, "y", "y", f, true);
  s.z = read_number(body, "z", "z", f, true);
  s.pinned = f.optional_bool("pinned");
  if (auto r = read_integer(body, "retention_days", "retention_days", f)) {
    s.retention_days = static_cast<int>(*r);
  }
  return s;
}

// ?from= ?to= (RFC 3339 or epoch ms; default: the last 24 hours up to now).
struct Range {
  int64_t from = 0, to = 0;
};
std::optional<Range> read_range(net::Exchange& ex, std::vector<net::FieldError>& errors) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  Range r{now - kDayMs, now};
  bool ok = true;
  for (auto [name, bound] : {std::pair{"from", &r.from}, std::pair{"to", &r.to}}) {
    if (auto t = ex.query(name)) {
      if (auto ms = telemetry::parse_time_ms(*t)) {
        *bound = *ms;
      } else {
        errors.push_back({name, "must be RFC 3339 or epoch milliseconds"});
        ok = false;
      }
    }
  }
  if (ok && !ex.query("from") && ex.query("to")) r.from = r.to - kDayMs;
  if (ok && r.from > r.to) {
    errors.push_back({"from", "must not be after to"});
    ok = false;
  }
  return ok ? std::optional<Range>(r) : std::nullopt;
}

class TelemetryHandlers {
 public:
  explicit TelemetryHandlers(TelemetryDeps d) : d_(d) {}

  void list(const ExchangePtr& ex) const {
    auto page = read_page(*ex);
    if (!page) return;
    telemetry::SensorFilter filter{
        .device = ex->query("device"), .limit = page->limit, .after_id = page->cursor.value_or(0)};
    if (auto pinned = ex->query("pinned")) {
      if (*pinned != "true" && *pinned != "false") {
        return ex->respond_problem(status::unprocessable_entity, "invalid query parameters",
                                   {{"pinned", "must be true or false"}});
      }
      filter.pinned = *pinned == "true";
    }
    off_io(*d_.blocking, ex, [d = d_, filter](net::Exchange& ex) {
      auto sensors = d.telemetry->list(filter);
      if (!sensors.ok()) return respond_status(ex, sensors.status());
      respond_list(ex, *sensors, filter.limit, sensor_json, [](const Sensor& s) { return s.id; });
    });
  }

  void create(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    std::string name = f.required_string("name");
    SensorFields fields = read_sensor_fields(*body, f);
    DetectorPatch detector = read_detector(*body, f);
    f.reject_unknown(
        {"name", "device", "unit", "x", "y", "z", "detector", "pinned", "retention_days"});
    if (!f.ok()) return f.respond(*ex);
    if (detector.any) fields.detector = detector.over({});
    off_io(*d_.blocking, ex, [d = d_, name, fields](net::Exchange& ex) {
      auto sensor = d.telemetry->create(name, fields);
      if (!sensor.ok()) return respond_status(ex, sensor.status());
      respond_created(ex, "/api/v1/sensors/" + sensor->name, sensor_json(*sensor));
    });
  }

  void get(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      auto sensor = d.telemetry->get(ex.param("name"));
      if (!sensor.ok()) return respond_status(ex, sensor.status());
      ex.respond_json(status::ok, sensor_json(*sensor));
    });
  }

  void update(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    SensorFields fields = read_sensor_fields(*body, f);
    DetectorPatch detector = read_detector(*body, f);
    f.reject_unknown({"device", "unit", "x", "y", "z", "detector", "pinned", "retention_days"});
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, fields, detector](net::Exchange& ex) mutable {
      if (detector.any) {
        auto current = d.telemetry->get(ex.param("name"));
        if (!current.ok()) return respond_status(ex, current.status());
        fields.detector = detector.over(current->detector);
      }
      auto sensor = d.telemetry->update(ex.param("name"), fields);
      if (!sensor.ok()) return respond_status(ex, sensor.status());
      ex.respond_json(status::ok, sensor_json(*sensor));
    });
  }

  void remove(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      if (Status s = d.telemetry->remove(ex.param("name")); !s.ok()) return respond_status(ex, s);
      ex.respond(net::HttpResponse{status::no_content, 11});
    });
  }

  // JSON (either shape) or text/csv; parsed here on the blocking pool (a big body takes a few
  // milliseconds), then stored; 202 once durable.
  void ingest(const ExchangePtr& ex) const {
    const std::string_view type = ex->request()[net::http::field::content_type];
    const bool csv = media_type_is(type, "text/csv");
    if (!csv && !is_json_type(type)) {
      return ex->respond_problem(status::unsupported_media_type,
                                 "send application/json or text/csv");
    }
    off_io(*d_.blocking, ex, [d = d_, csv](net::Exchange& ex) {
      Expected<std::vector<telemetry::NamedPoints>> batch = std::vector<telemetry::NamedPoints>{};
      if (csv) {
        batch = telemetry::parse_ingest_csv(ex.request().body());
      } else {
        auto body = read_json_object(ex);
        if (!body) return;
        batch = telemetry::parse_ingest_json(*body);
      }
      if (batch.status().code() == ErrorCode::kResourceExhausted) {
        return ex.respond_problem(status::payload_too_large, batch.status().message());
      }
      if (!batch.ok()) return respond_status(ex, batch.status());
      int64_t only_device = 0;
      if (ex.principal()->role == "watchdog") {
        auto w = d.watchdogs->get_caller(ex.principal()->user_id);
        if (!w.ok()) return respond_status(ex, w.status());
        only_device = w->device_id;
      }
      auto accepted = d.telemetry->ingest(std::move(*batch), only_device);
      if (!accepted.ok()) return respond_status(ex, accepted.status());
      ex.respond_json(status::accepted, json::object{{"accepted", *accepted}});
    });
  }

  // Each point's level, recomputed from the stored series.
  void anomalies(const ExchangePtr& ex) const {
    std::vector<net::FieldError> errors;
    auto range = read_range(*ex, errors);
    if (!errors.empty()) {
      return ex->respond_problem(status::unprocessable_entity, "invalid query parameters", errors);
    }
    off_io(*d_.blocking, ex, [d = d_, r = *range](net::Exchange& ex) {
      auto sensor = d.telemetry->get(ex.param("name"));
      if (!sensor.ok()) return respond_status(ex, sensor.status());
      auto judged = d.telemetry->anomalies(*sensor, r.from, r.to, kMaxSeriesPoints);
      if (judged.status().code() == ErrorCode::kResourceExhausted) {
        return ex.respond_problem(status::unprocessable_entity,
                                  judged.status().message() + ": ask for a shorter range",
                                  {{"from", "the range holds too many points"}});
      }
      if (!judged.ok()) return respond_status(ex, judged.status());
      json::array items;
      items.reserve(judged->size());
      for (const auto& j : *judged) items.push_back(judged_point_json(j));
      ex.respond_json(status::ok, json::object{{"sensor", sensor->name},
                                               {"from", format_epoch_ms(r.from)},
                                               {"to", format_epoch_ms(r.to)},
                                               {"points", std::move(items)}});
    });
  }

  // Raw points, or buckets with ?step= (and ?agg=, default avg).
  void series(const ExchangePtr& ex) const {
    std::vector<net::FieldError> errors;
    auto range = read_range(*ex, errors);
    std::optional<int64_t> step;
    if (auto s = ex->query("step")) {
      step = parse_duration_ms(*s);
      if (!step) errors.push_back({"step", "must be a duration: 500ms, 30s, 10m, 1h, 1d"});
    }
    telemetry::Agg agg = telemetry::Agg::kAvg;
    std::string agg_name = ex->query("agg").value_or("avg");
    if (auto a = telemetry::agg_from(agg_name)) {
      agg = *a;
    } else {
      errors.push_back({"agg", "must be avg, min, max, last or count"});
    }
    if (!errors.empty()) {
      return ex->respond_problem(status::unprocessable_entity, "invalid query parameters", errors);
    }
    off_io(*d_.blocking, ex, [d = d_, r = *range, step, agg, agg_name](net::Exchange& ex) {
      auto sensor = d.telemetry->get(ex.param("name"));
      if (!sensor.ok()) return respond_status(ex, sensor.status());
      json::object out{{"sensor", sensor->name},
                       {"from", format_epoch_ms(r.from)},
                       {"to", format_epoch_ms(r.to)}};
      json::array items;
      if (step) {
        auto buckets = d.telemetry->series().aggregate(sensor->id, r.from, r.to, *step, agg);
        if (!buckets.ok()) return respond_status(ex, buckets.status());
        items.reserve(buckets->size());
        for (const auto& b : *buckets) {
          items.push_back(json::object{
              {"at", format_epoch_ms(b.start_ms)}, {"value", b.value}, {"count", b.count}});
        }
        out["step_ms"] = *step;
        out["agg"] = agg_name;
        out["buckets"] = std::move(items);
      } else {
        auto points = d.telemetry->series().read(sensor->id, r.from, r.to);
        if (!points.ok()) return respond_status(ex, points.status());
        if (points->size() > kMaxSeriesPoints) {
          return ex.respond_problem(status::unprocessable_entity,
                                    "the range holds " + std::to_string(points->size()) +
                                        " points, more than " + std::to_string(kMaxSeriesPoints) +
                                        ": ask for buckets with ?step=",
                                    {{"step", "needed for this range"}});
        }
        items.reserve(points->size());
        for (const auto& p : *points) {
          items.push_back(json::object{{"at", format_epoch_ms(p.at_ms)}, {"value", p.value}});
        }
        out["points"] = std::move(items);
      }
      ex.respond_json(status::ok, out);
    });
  }

 private:
  TelemetryDeps d_;
};

json::value detector_schema() {
  return {{"type", "object"},
          {"additionalProperties", false},
          {"properties",
           {{"window",
             {{"type", "integer"},
              {"minimum", telemetry::kMinWindow},
              {"maximum", telemetry::kMaxWindow},
              {"default", 144}}},
            {"exclusion", {{"type", "integer"}, {"minimum", 0}, {"default", 72}}},
            {"warn_percent", {{"type", "number"}, {"default", 100}}},
            {"critical_percent", {{"type", "number"}, {"default", 200}}},
            {"normalize", {{"type", "boolean"}, {"default", false}}}}}};
}

json::value sensor_schema() {
  auto nullable = [](const char* type) { return json::value{{"type", json::array{type, "null"}}}; };
  json::value text = {{"type", "string"}};
  return all_required({{"type", "object"},
                       {"properties",
                        {{"name", text},
                         {"device", nullable("string")},
                         {"unit", text},
                         {"x", nullable("number")},
                         {"y", nullable("number")},
                         {"z", nullable("number")},
                         {"detector", detector_schema()},
                         {"pinned", {{"type", "boolean"}}},
                         {"retention_days", {{"type", "integer"}}},
                         {"created_at", text},
                         {"updated_at", text}}}});
}

json::value sensor_body_schema(bool create) {
  auto nullable = [](const char* type) { return json::value{{"type", json::array{type, "null"}}}; };
  json::object props{{"device", nullable("string")},
                     {"unit", {{"type", "string"}, {"maxLength", telemetry::kMaxUnitLength}}},
                     {"x", nullable("number")},
                     {"y", nullable("number")},
                     {"z", nullable("number")},
                     {"detector", detector_schema()},
                     {"pinned", {{"type", "boolean"}}},
                     {"retention_days",
                      {{"type", "integer"},
                       {"minimum", 0},
                       {"maximum", telemetry::kMaxRetentionDays},
                       {"description", "0: points are kept for ever"}}}};
  return named_request_schema(std::move(props), create);
}

json::value ingest_schema() {
  json::value time = {{"type", json::array{"string", "integer"}},
                      {"description", "RFC 3339, or epoch milliseconds"}};
  json::value number = {{"type", "number"}};
  json::value name = {{"type", "string"}};
  json::value point = {{"type", "object"},
                       {"additionalProperties", false},
                       {"required", json::array{"sensor", "at", "value"}},
                       {"properties", {{"sensor", name}, {"at", time}, {"value", number}}}};
  json::value pair = {{"type", "array"},
                      {"minItems", 2},
                      {"maxItems", 2},
                      {"prefixItems", json::array{time, number}}};
  auto list_of = [](json::value item) {
    return json::value{
        {"type", "array"}, {"maxItems", telemetry::kMaxIngestPoints}, {"items", std::move(item)}};
  };
  json::value many = {{"type", "object"},
                      {"additionalProperties", false},
                      {"required", json::array{"points"}},
                      {"properties", {{"points", list_of(point)}}}};
  json::value one = {{"type", "object"},
                     {"additionalProperties", false},
                     {"required", json::array{"sensor", "points"}},
                     {"properties", {{"sensor", name}, {"points", list_of(pair)}}}};
  return {{"oneOf", json::array{many, one}}};
}

net::RouteSpec list_spec() {
  auto params = page_params();
  params.push_back({"pinned", "query", "true: only pinned sensors; false: only the others"});
  params.push_back({"device", "query", "Only the sensors on this device"});
  return {.operation_id = "listSensors",
          .summary = "List sensors, in the order they were made",
          .tag = "telemetry",
          .action = "sensors.read",
          .params = std::move(params),
          .responses = {{200, "A page of sensors", list_schema(sensor_schema())},
                        problem_response(422, "A filter's value is invalid (named)")}};
}

net::RouteSpec create_spec() {
  return {.operation_id = "createSensor",
          .summary =
              "Make a sensor (detector settings default to window 144, exclusion 72, "
              "warning at 100 %, critical at 200 %, not normalised)",
          .tag = "telemetry",
          .action = "sensors.write",
          .request_schema = sensor_body_schema(true),
          .responses = {{201, "The sensor", sensor_schema()},
                        problem_response(409, "A sensor of that name exists"),
                        problem_response(422, "A field is invalid (named)")}};
}

net::RouteSpec get_spec() {
  return {
      .operation_id = "getSensor",
      .summary = "One sensor",
      .tag = "telemetry",
      .action = "sensors.read",
      .responses = {{200, "The sensor", sensor_schema()}, problem_response(404, "No such sensor")}};
}

net::RouteSpec update_spec() {
  return {.operation_id = "updateSensor",
          .summary = "Change a sensor: the fields given (detector members given replace those)",
          .tag = "telemetry",
          .action = "sensors.write",
          .request_schema = sensor_body_schema(false),
          .responses = {{200, "The sensor", sensor_schema()},
                        problem_response(404, "No such sensor"),
                        problem_response(422, "A field is invalid (named)")}};
}

net::RouteSpec remove_spec() {
  return {.operation_id = "deleteSensor",
          .summary = "Delete a sensor and every point of it",
          .tag = "telemetry",
          .action = "sensors.write",
          .responses = {{204, "Deleted"}, problem_response(404, "No such sensor")}};
}

net::RouteSpec ingest_spec() {
  return {.operation_id = "postTelemetry",
          .summary =
              "Store points: JSON {points:[{sensor,at,value}]} or {sensor,points:[[at,value]]}, "
              "or text/csv lines sensor,at,value (a header line is optional). Answers once every "
              "point is durable; a point sent again (same sensor and time) is stored once, the "
              "later value winning; points may come in any order. A watchdog may post only for "
              "its own device's sensors",
          .tag = "telemetry",
          .action = "telemetry.write",
          .request_schema = ingest_schema(),
          .responses = {{202,
                         "Stored",
                         {{"type", "object"},
                          {"required", json::array{"accepted"}},
                          {"properties", {{"accepted", {{"type", "integer"}}}}}}},
                        problem_response(403, "A watchdog posted for another device's sensor"),
                        problem_response(413, "More than 100 000 points, or a body over 16 MiB"),
                        problem_response(415, "Neither JSON nor text/csv"),
                        problem_response(422, "A point or sensor is invalid or unknown (named)")},
          .max_body_bytes = kMaxTelemetryBodyBytes};
}

net::RouteSpec anomalies_spec() {
  json::value time = {{"type", "string"}};
  json::value point = {
      {"type", "object"},
      {"required", json::array{"at", "value", "level", "percent"}},
      {"properties",
       {{"at", time},
        {"value", {{"type", "number"}}},
        {"level", {{"enum", json::array{"undefined", "ok", "warning", "critical"}}}},
        {"percent", {{"type", json::array{"number", "null"}}}}}}};
  return {.operation_id = "getSensorAnomalies",
          .summary =
              "The anomaly level of each of a sensor's points in [from, to] (default: the "
              "last 24 h): its matrix-profile distance in percent of the baseline's "
              "maximum (null while undefined), ok below the detector's warn_percent, "
              "warning below critical_percent, critical from there. Recomputed from the "
              "stored series against the sensor's current baseline (GET …/baseline); without "
              "one it is learned from the sensor's first 576 points (4 days of a point every 10 "
              "minutes), undefined while they come",
          .tag = "telemetry",
          .action = "sensors.read",
          .params = {{"from", "query", "RFC 3339 or epoch milliseconds (default: to - 24 h)"},
                     {"to", "query", "RFC 3339 or epoch milliseconds (default: now)"}},
          .responses = {{200,
                         "Each point with its level",
                         {{"type", "object"},
                          {"required", json::array{"sensor", "from", "to", "points"}},
                          {"properties",
                           {{"sensor", {{"type", "string"}}},
                            {"from", time},
                            {"to", time},
                            {"points", {{"type", "array"}, {"items", point}}}}}}},
                        problem_response(404, "No such sensor"),
                        problem_response(422, "A bad time, or a range of over 100 000 points")}};
}

net::RouteSpec series_spec() {
  json::value time = {{"type", "string"}};
  json::value schema = {
      {"type", "object"},
      {"required", json::array{"sensor", "from", "to"}},
      {"properties",
       {{"sensor", {{"type", "string"}}},
        {"from", time},
        {"to", time},
        {"step_ms", {{"type", "integer"}}},
        {"agg", {{"enum", json::array{"avg", "min", "max", "last", "count"}}}},
        {"points",
         {{"type", "array"},
          {"items",
           all_required({{"type", "object"},
                         {"properties", {{"at", time}, {"value", {{"type", "number"}}}}}})}}},
        {"buckets",
         {{"type", "array"},
          {"items", all_required({{"type", "object"},
                                  {"properties",
                                   {{"at", time},
                                    {"value", {{"type", "number"}}},
                                    {"count", {{"type", "integer"}}}}}})}}}}}};
  return {.operation_id = "getSensorSeries",
          .summary =
              "A sensor's points in [from, to] (default: the last 24 h), or with ?step= "
              "buckets aligned to the epoch (empty ones left out) of ?agg= (avg)",
          .tag = "telemetry",
          .action = "sensors.read",
          .params = {{"from", "query", "RFC 3339 or epoch milliseconds (default: to - 24 h)"},
                     {"to", "query", "RFC 3339 or epoch milliseconds (default: now)"},
                     {"step", "query", "Bucket width: 500ms, 30s, 10m, 1h, 1d"},
                     {"agg", "query", "avg (default), min, max, last or count"}},
          .responses = {{200, "The points, or the buckets", schema},
                        problem_response(404, "No such sensor"),
                        problem_response(422, "A bad parameter, or too many points (named)")}};
}

}  // namespace

void add_telemetry_routes(net::Router& router, TelemetryDeps deps) {
  auto h = std::make_shared<const TelemetryHandlers>(deps);
  const std::string one = "/api/v1/sensors/{name}";
  router.add(verb::get, "/api/v1/sensors", list_spec(), bind(h, &TelemetryHandlers::list));
  router.add(verb::post, "/api/v1/sensors", create_spec(), bind(h, &TelemetryHandlers::create));
  router.add(verb::get, one, get_spec(), bind(h, &TelemetryHandlers::get));
  router.add(verb::patch, one, update_spec(), bind(h, &TelemetryHandlers::update));
  router.add(verb::delete_, one, remove_spec(), bind(h, &TelemetryHandlers::remove));
  router.add(verb::get, one + "/series", series_spec(), bind(h, &TelemetryHandlers::series));
  router.add(verb::get, one + "/anomalies", anomalies_spec(),
             bind(h, &TelemetryHandlers::anomalies));
  router.add(verb::post, "/api/v1/telemetry", ingest_spec(), bind(h, &TelemetryHandlers::ingest));
}

}  // namespace vigil::api
