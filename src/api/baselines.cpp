#include "api/baselines.h"

#include <boost/json.hpp>

#include <cmath>
#include <limits>

#include "api/fleet_json.h"
#include "api/handler.h"
#include "api/json_body.h"
#include "api/schemas.h"
#include "core/ids.h"
#include "core/json_text.h"
#include "telemetry/ingest_parse.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using telemetry::Baseline;
using telemetry::SensorBaseline;

namespace {

json::object baseline_json(const Baseline& b, bool with_values) {
  json::object o{{"name", b.name},
                 {"source", b.source},
                 {"sensor", text_or_null(b.sensor)},
                 {"from", b.from_ms ? json::value(format_epoch_ms(*b.from_ms)) : nullptr},
                 {"to", b.to_ms ? json::value(format_epoch_ms(*b.to_ms)) : nullptr},
                 {"removed", b.removed},
                 {"points", b.points},
                 {"mean", b.mean},
                 {"std", b.std},
                 {"created_at", b.created_at},
                 {"created_by", user_or_null(b.created_by)}};
  if (with_values) {
    json::array values;
    values.reserve(b.values.size());
    for (double v : b.values) {
      values.push_back(std::isfinite(v) ? json::value(v) : json::value(nullptr));
    }
    o["values"] = std::move(values);
  }
  return o;
}

json::object sensor_baseline_json(const SensorBaseline& b) {
  boost::system::error_code ec;
  json::value details = parse_json(b.details, ec);
  if (ec || !details.is_object()) details = json::object();
  return {{"at", b.at},
          {"action", b.action},
          {"baseline", text_or_null(b.baseline)},
          {"by", user_or_null(b.by_user)},
          {"points", b.points},
          {"mean", b.mean},
          {"std", b.std},
          {"details", std::move(details)}};
}

// "values": an array of numbers; null is a gap.
std::optional<std::vector<double>> read_values(const json::value& v, Fields& f) {
  const json::array* list = v.if_array();
  if (!list) {
    f.add("values", "must be an array of numbers");
    return std::nullopt;
  }
  if (list->size() > telemetry::kMaxBaselinePoints) {
    f.add("values", "at most " + std::to_string(telemetry::kMaxBaselinePoints) + " values");
    return std::nullopt;
  }
  std::vector<double> out;
  out.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    const json::value& x = (*list)[i];
    if (x.is_null()) {
      out.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    if (!x.is_number() || !std::isfinite(x.to_number<double>())) {
      f.add("values", "value " + std::to_string(i) + " is neither a finite number nor null");
      return std::nullopt;
    }
    out.push_back(x.to_number<double>());
  }
  return out;
}

std::optional<int64_t> read_time(const json::object& body, const char* name, Fields& f) {
  const json::value* v = body.if_contains(name);
  if (!v) {
    f.add(name, "required with sensor");
    return std::nullopt;
  }
  std::optional<int64_t> ms;
  if (v->is_int64()) ms = v->as_int64();
  if (v->is_string()) ms = telemetry::parse_time_ms(v->as_string());
  if (!ms) f.add(name, "must be RFC 3339 or epoch milliseconds");
  return ms;
}

}  // namespace

BaselineRequest read_baseline_request(const json::object& body, Fields& f) {
  BaselineRequest r;
  r.name = f.required_string("name");
  std::optional<std::string> sensor = f.optional_string("sensor");
  std::optional<bool> clean = f.optional_bool("clean");
  f.reject_unknown({"name", "values", "sensor", "from", "to", "clean"});
  if (const json::value* v = body.if_contains("values")) {
    if (sensor) f.add("values", "give values or a sensor's range, not both");
    r.values = read_values(*v, f);
  } else if (sensor) {
    r.cut.sensor = *sensor;
    r.cut.from_ms = read_time(body, "from", f).value_or(0);
    r.cut.to_ms = read_time(body, "to", f).value_or(0);
    r.cut.clean = clean.value_or(true);
  } else {
    f.add("values", "give values, or a sensor with from and to");
  }
  return r;
}

namespace {

class BaselineHandlers {
 public:
  explicit BaselineHandlers(BaselineDeps d) : d_(d) {}

  void list(const ExchangePtr& ex) const {
    auto page = read_page(*ex);
    if (!page) return;
    off_io(*d_.blocking, ex, [d = d_, p = *page](net::Exchange& ex) {
      auto items = d.baselines->store().list(p.limit, p.cursor.value_or(0));
      if (!items.ok()) return respond_status(ex, items.status());
      respond_list(
          ex, *items, p.limit, [](const Baseline& b) { return baseline_json(b, false); },
          [](const Baseline& b) { return b.id; });
    });
  }

  void create(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    BaselineRequest request = read_baseline_request(*body, f);
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, r = std::move(request)](net::Exchange& ex) mutable {
      const int64_t by = ex.principal()->user_id;
      Expected<Baseline> b = Status(ErrorCode::kInternal, "unset");
      if (r.values) {
        b = d.baselines->upload(r.name, std::move(*r.values), by);
      } else {
        r.cut.name = r.name;
        r.cut.by_user = by;
        b = d.baselines->cut(r.cut);
      }
      if (!b.ok()) return respond_status(ex, b.status());
      respond_created(ex, "/api/v1/baselines/" + b->name, baseline_json(*b, false));
    });
  }

  void get(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      auto b = d.baselines->store().get(ex.param("name"), true);
      if (!b.ok()) return respond_status(ex, b.status());
      ex.respond_json(status::ok, baseline_json(*b, true));
    });
  }

  void remove(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      if (Status s = d.baselines->store().remove(ex.param("name")); !s.ok()) {
        return respond_status(ex, s);
      }
      ex.respond(net::HttpResponse{status::no_content, 11});
    });
  }

  void of_sensor(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      auto view = d.baselines->of(ex.param("name"));
      if (!view.ok()) return respond_status(ex, view.status());
      json::array history;
      for (const auto& h : view->history) history.push_back(sensor_baseline_json(h));
      ex.respond_json(
          status::ok,
          json::object{{"sensor", view->sensor.name},
                       {"current", view->current ? json::value(sensor_baseline_json(*view->current))
                                                 : json::value(nullptr)},
                       {"history", std::move(history)}});
    });
  }

  // {"baseline":"<library name>"}
  void set(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    std::string baseline = f.required_string("baseline");
    f.reject_unknown({"baseline"});
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, baseline](net::Exchange& ex) {
      auto b = d.baselines->set(ex.param("name"), baseline, ex.principal()->user_id);
      if (!b.ok()) return respond_status(ex, b.status());
      ex.respond_json(status::ok, sensor_baseline_json(*b));
    });
  }

  void select(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      auto s = d.baselines->select(ex.param("name"), ex.principal()->user_id);
      if (!s.ok()) return respond_status(ex, s.status());
      json::array candidates;
      for (const auto& c : s->candidates) {
        json::object o{{"baseline", c.name},
                       {"fits", c.verdict.fits},
                       {"max_percent", c.verdict.max_percent},
                       {"distance", c.verdict.distance}};
        o["why"] = c.verdict.fits ? json::value(nullptr) : json::value(c.verdict.why);
        candidates.push_back(std::move(o));
      }
      ex.respond_json(
          status::ok,
          json::object{{"selected", s->chosen.has_value()},
                       {"current", s->chosen ? json::value(sensor_baseline_json(*s->chosen))
                                             : json::value(nullptr)},
                       {"history_points", s->history_points},
                       {"removed", s->removed},
                       {"candidates", std::move(candidates)}});
    });
  }

  void augment(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      auto b = d.baselines->augment(ex.param("name"), ex.principal()->user_id);
      if (!b.ok()) return respond_status(ex, b.status());
      ex.respond_json(status::ok, sensor_baseline_json(*b));
    });
  }

 private:
  BaselineDeps d_;
};

json::value baseline_schema(bool with_values) {
  auto nullable = [](const char* type) { return json::value{{"type", json::array{type, "null"}}}; };
  json::value text = {{"type", "string"}};
  json::object props{{"name", text},
                     {"source", {{"enum", json::array{"upload", "sensor", "seed"}}}},
                     {"sensor", nullable("string")},
                     {"from", nullable("string")},
                     {"to", nullable("string")},
                     {"removed", {{"type", "integer"}}},
                     {"points", {{"type", "integer"}}},
                     {"mean", {{"type", "number"}}},
                     {"std", {{"type", "number"}}},
                     {"created_at", text},
                     {"created_by", nullable("integer")}};
  if (with_values) {
    props["values"] = {{"type", "array"},
                       {"items", {{"type", json::array{"number", "null"}}}},
                       {"description", "null: a gap (a discord cleaned out)"}};
  }
  return all_required({{"type", "object"}, {"properties", std::move(props)}});
}

json::value sensor_baseline_schema() {
  auto nullable = [](const char* type) { return json::value{{"type", json::array{type, "null"}}}; };
  return all_required({{"type", "object"},
                       {"properties",
                        {{"at", {{"type", "string"}}},
                         {"action", {{"enum", json::array{"set", "select", "augment"}}}},
                         {"baseline", nullable("string")},
                         {"by", nullable("integer")},
                         {"points", {{"type", "integer"}}},
                         {"mean", {{"type", "number"}}},
                         {"std", {{"type", "number"}}},
                         {"details", {{"type", "object"}}}}}});
}

json::value create_schema() {
  json::value time = {{"type", json::array{"string", "integer"}},
                      {"description", "RFC 3339, or epoch milliseconds"}};
  json::value name = {{"type", "string"}, {"pattern", "^[A-Za-z0-9._-]{1,64}$"}};
  json::value upload = {{"type", "object"},
                        {"additionalProperties", false},
                        {"required", json::array{"name", "values"}},
                        {"properties",
                         {{"name", name},
                          {"values",
                           {{"type", "array"},
                            {"minItems", telemetry::kMinBaselinePoints},
                            {"maxItems", telemetry::kMaxBaselinePoints},
                            {"items", {{"type", json::array{"number", "null"}}}},
                            {"description", "null: a gap"}}}}}};
  json::value cut = {{"type", "object"},
                     {"additionalProperties", false},
                     {"required", json::array{"name", "sensor", "from", "to"}},
                     {"properties",
                      {{"name", name},
                       {"sensor", {{"type", "string"}}},
                       {"from", time},
                       {"to", time},
                       {"clean",
                        {{"type", "boolean"},
                         {"default", true},
                         {"description", "Cut the range's top 3 discords out"}}}}}};
  return {{"oneOf", json::array{upload, cut}}};
}

net::RouteSpec list_spec() {
  return {.operation_id = "listBaselines",
          .summary = "The baseline library, in the order it was filled (without values)",
          .tag = "telemetry",
          .action = "sensors.read",
          .params = page_params(),
          .responses = {{200, "A page of baselines", list_schema(baseline_schema(false))}}};
}

net::RouteSpec create_spec() {
  return {.operation_id = "createBaseline",
          .summary =
              "Add a baseline: its values, or a range of a sensor's history (cleaned of "
              "its top discords unless clean is false)",
          .tag = "telemetry",
          .action = "sensors.write",
          .request_schema = create_schema(),
          .responses = {{201, "The baseline", baseline_schema(false)},
                        problem_response(409, "A baseline of that name exists"),
                        problem_response(422, "A field is invalid (named)")},
          .max_body_bytes = 1 << 20};
}

net::RouteSpec get_spec() {
  return {.operation_id = "getBaseline",
          .summary = "One baseline with its values",
          .tag = "telemetry",
          .action = "sensors.read",
          .responses = {{200, "The baseline", baseline_schema(true)},
                        problem_response(404, "No such baseline")}};
}

net::RouteSpec remove_spec() {
  return {.operation_id = "deleteBaseline",
          .summary = "Delete a baseline from the library (sensors keep the copies they judge by)",
          .tag = "telemetry",
          .action = "sensors.write",
          .responses = {{204, "Deleted"}, problem_response(404, "No such baseline")}};
}

net::RouteSpec sensor_spec() {
  return {.operation_id = "getSensorBaseline",
          .summary =
              "A sensor's current baseline (null: it learns one from its first 576 "
              "points) and its history, newest first",
          .tag = "telemetry",
          .action = "sensors.read",
          .responses = {
              {200, "The baseline",
               all_required(
                   {{"type", "object"},
                    {"properties",
                     {{"sensor", {{"type", "string"}}},
                      {"current",
                       {{"oneOf", json::array{sensor_baseline_schema(), {{"type", "null"}}}}}},
                      {"history", {{"type", "array"}, {"items", sensor_baseline_schema()}}}}}})},
              problem_response(404, "No such sensor")}};
}

net::RouteSpec set_spec() {
  return {.operation_id = "setSensorBaseline",
          .summary = "Judge a sensor against a library baseline from now on",
          .tag = "telemetry",
          .action = "sensors.write",
          .request_schema = {{"type", "object"},
                             {"additionalProperties", false},
                             {"required", json::array{"baseline"}},
                             {"properties", {{"baseline", {{"type", "string"}}}}}},
          .responses = {{200, "The sensor's new baseline", sensor_baseline_schema()},
                        problem_response(404, "No such sensor"),
                        problem_response(422, "No such baseline")}};
}

net::RouteSpec select_spec() {
  json::value candidate = {{"type", "object"},
                           {"properties",
                            {{"baseline", {{"type", "string"}}},
                             {"fits", {{"type", "boolean"}}},
                             {"max_percent", {{"type", "number"}}},
                             {"distance", {{"type", "number"}}},
                             {"why", {{"type", json::array{"string", "null"}}}}}}};
  return {
      .operation_id = "selectSensorBaseline",
      .summary =
          "Select the library baseline the sensor's cleaned recent history fits best: "
          "replayed under each, those it would warn under skipped, the closest in mean and "
          "spread chosen (selected false: none fits, the current one stays)",
      .tag = "telemetry",
      .action = "sensors.write",
      .responses = {
          {200, "What was looked at and chosen",
           all_required({{"type", "object"},
                         {"properties",
                          {{"selected", {{"type", "boolean"}}},
                           {"current",
                            {{"oneOf", json::array{sensor_baseline_schema(), {{"type", "null"}}}}}},
                           {"history_points", {{"type", "integer"}}},
                           {"removed", {{"type", "integer"}}},
                           {"candidates", {{"type", "array"}, {"items", candidate}}}}}})},
          problem_response(404, "No such sensor"),
          problem_response(409, "Too little history, or an empty library")}};
}

net::RouteSpec augment_spec() {
  return {.operation_id = "augmentSensorBaseline",
          .summary =
              "Add the sensor's cleaned history since the last augmentation to its "
              "baseline (the newest 16 384 values kept)",
          .tag = "telemetry",
          .action = "sensors.write",
          .responses = {{200, "The sensor's new baseline", sensor_baseline_schema()},
                        problem_response(404, "No such sensor"),
                        problem_response(409, "Too little new history")}};
}

}  // namespace

void add_baseline_routes(net::Router& router, BaselineDeps deps) {
  using net::http::verb;
  auto h = std::make_shared<const BaselineHandlers>(deps);
  router.add(verb::get, "/api/v1/baselines", list_spec(), bind(h, &BaselineHandlers::list));
  router.add(verb::post, "/api/v1/baselines", create_spec(), bind(h, &BaselineHandlers::create));
  router.add(verb::get, "/api/v1/baselines/{name}", get_spec(), bind(h, &BaselineHandlers::get));
  router.add(verb::delete_, "/api/v1/baselines/{name}", remove_spec(),
             bind(h, &BaselineHandlers::remove));
  const std::string one = "/api/v1/sensors/{name}/baseline";
  router.add(verb::get, one, sensor_spec(), bind(h, &BaselineHandlers::of_sensor));
  router.add(verb::put, one, set_spec(), bind(h, &BaselineHandlers::set));
  router.add(verb::post, one + "/select", select_spec(), bind(h, &BaselineHandlers::select));
  router.add(verb::post, one + "/augment", augment_spec(), bind(h, &BaselineHandlers::augment));
}

}  // namespace vigil::api
