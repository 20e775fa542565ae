#include "api/alarms.h"

#include <boost/json.hpp>

#include "api/fleet_json.h"
#include "api/handler.h"
#include "api/json_body.h"
#include "api/schemas.h"
#include "core/ids.h"
#include "core/json_text.h"
#include "core/strings.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using net::http::verb;

namespace {

// Every member is always there, null when it does not apply. ack_by and cleared_by are user
// ids: users read alarms but not accounts, so emails are not shown to them.
json::object alarm_json(const fleet::Alarm& a) {
  boost::system::error_code ec;
  json::value details = parse_json(a.details, ec);
  if (ec || !details.is_object()) details = json::object();
  return {{"id", a.id},
          {"at", a.at},
          {"last_at", a.last_at},
          {"count", a.count},
          {"device", text_or_null(a.device)},
          {"watchdog", text_or_null(a.watchdog)},
          {"sensor", text_or_null(a.sensor)},
          {"model", model_ref_json(a.model)},
          {"severity", a.severity},
          {"source", a.source},
          {"state", a.state},
          {"details", std::move(details)},
          {"ack_by", user_or_null(a.ack_by)},
          {"ack_at", text_or_null(a.ack_at)},
          {"cleared_by", user_or_null(a.cleared_by)},
          {"cleared_at", text_or_null(a.cleared_at)}};
}

// ?device= ?model= ?version= ?state= ?severity= ?source= ?sensor= ?since= ?until= plus the page;
// answers 422 naming every bad value and returns nullopt.
std::optional<fleet::AlarmFilter> read_filter(net::Exchange& ex) {
  auto page = read_page(ex);
  if (!page) return std::nullopt;
  fleet::AlarmFilter f{.device = ex.query("device"),
                       .model = ex.query("model"),
                       .state = ex.query("state"),
                       .severity = ex.query("severity"),
                       .source = ex.query("source"),
                       .sensor = ex.query("sensor"),
                       .limit = page->limit,
                       .before_id = page->cursor.value_or(0)};
  std::vector<net::FieldError> errors;
  if (auto v = ex.query("version")) {
    f.version = parse_int<int64_t>(*v, 1);
    if (!f.version) errors.push_back({"version", "must be a version number from 1"});
  }
  for (auto [name, bound] : {std::pair{"since", &f.since}, std::pair{"until", &f.until}}) {
    if (auto t = ex.query(name)) {
      *bound = parse_timestamp(*t);
      if (!*bound) errors.push_back({name, "must be RFC 3339 or epoch milliseconds"});
    }
  }
  for (const Status& s : fleet::AlarmStore::filter_errors(f)) {
    errors.push_back({s.field(), s.message()});
  }
  if (!errors.empty()) {
    ex.respond_problem(status::unprocessable_entity, "invalid query parameters", errors);
    return std::nullopt;
  }
  return f;
}

// model: {name, version}.
std::optional<fleet::ModelRef> read_model(const json::object& body, Fields& f) {
  const json::value* v = body.if_contains("model");
  if (!v || v->is_null()) return std::nullopt;
  const json::object* m = v->if_object();
  const json::value* name = m ? m->if_contains("name") : nullptr;
  const json::value* version = m ? m->if_contains("version") : nullptr;
  if (!name || !name->is_string() || !version || !version->is_int64() || m->size() != 2) {
    f.add("model", "must be {\"name\": string, \"version\": integer}");
    return std::nullopt;
  }
  return fleet::ModelRef{std::string(name->as_string()), version->as_int64()};
}

// The body of POST /api/v1/alarms as a report (without the device, which is the caller's);
// answers 415/400/422 and returns nullopt.
std::optional<fleet::AlarmReport> read_report(net::Exchange& ex) {
  auto body = read_json_object(ex);
  if (!body) return std::nullopt;
  Fields f(*body);
  fleet::AlarmReport r;
  r.client_id = f.optional_string("id").value_or("");
  if (const json::value* id = body->if_contains("id");
      id && id->is_string() && r.client_id.empty()) {
    f.add("id", "must be 1-128 characters");
  }
  if (const json::value* at = body->if_contains("at"); at && !at->is_null()) {
    if (at->is_string()) {
      r.at = at->as_string();
    } else if (at->is_int64() && at->as_int64() >= 0) {
      r.at = std::to_string(at->as_int64());
    } else {
      f.add("at", "must be RFC 3339 or epoch milliseconds");
    }
  }
  r.severity = f.required_string("severity");
  r.model = read_model(*body, f);
  r.sensor = f.optional_string("sensor").value_or("");
  if (const json::value* details = body->if_contains("details"); details && !details->is_null()) {
    if (details->is_object()) {
      r.details = json::serialize(*details);
    } else {
      f.add("details", "must be a JSON object");
    }
  }
  f.reject_unknown({"id", "at", "severity", "model", "sensor", "details"});
  if (!f.ok()) {
    f.respond(ex);
    return std::nullopt;
  }
  return r;
}

// {id}: a positive integer, else no such alarm.
std::optional<int64_t> alarm_id(net::Exchange& ex) {
  auto id = parse_int<int64_t>(ex.param("id"), 1);
  if (!id) ex.respond_problem(status::not_found, "no such alarm");
  return id;
}

class AlarmHandlers {
 public:
  explicit AlarmHandlers(AlarmDeps d) : d_(d) {}

  void list(const ExchangePtr& ex) const {
    auto filter = read_filter(*ex);
    if (!filter) return;
    off_io(*d_.blocking, ex, [d = d_, f = *filter](net::Exchange& ex) {
      auto alarms = d.alarms->list(f);
      if (!alarms.ok()) return respond_status(ex, alarms.status());
      respond_list(ex, *alarms, f.limit, alarm_json, [](const fleet::Alarm& a) { return a.id; });
    });
  }

  void get(const ExchangePtr& ex) const {
    auto id = alarm_id(*ex);
    if (!id) return;
    off_io(*d_.blocking, ex, [d = d_, id = *id](net::Exchange& ex) {
      auto alarm = d.alarms->get(id);
      if (!alarm.ok()) return respond_status(ex, alarm.status());
      ex.respond_json(status::ok, alarm_json(*alarm));
    });
  }

  // A watchdog's report, on its own device: 201 with the alarm it was counted into (a new one,
  // or the open one of the same key); a resend of a stored id answers the same alarm again.
  void report(const ExchangePtr& ex) const {
    auto report = read_report(*ex);
    if (!report) return;
    off_io(*d_.blocking, ex, [d = d_, r = std::move(*report)](net::Exchange& ex) mutable {
      auto watchdog = d.watchdogs->get_caller(ex.principal()->user_id);
      if (!watchdog.ok()) return respond_status(ex, watchdog.status());
      r.device_id = watchdog->device_id;
      r.watchdog_id = watchdog->id;
      auto alarm = d.alarms->report(r);
      if (!alarm.ok()) return respond_status(ex, alarm.status());
      if (d.changed) d.changed(*alarm, "reported");
      respond_created(ex, "/api/v1/alarms/" + std::to_string(alarm->id), alarm_json(*alarm));
    });
  }

  void acknowledge(const ExchangePtr& ex) const { change(ex, false); }
  void clear(const ExchangePtr& ex) const { change(ex, true); }

 private:
  void change(const ExchangePtr& ex, bool clear) const {
    auto id = alarm_id(*ex);
    if (!id) return;
    off_io(*d_.blocking, ex, [d = d_, id = *id, clear](net::Exchange& ex) {
      const int64_t by = ex.principal()->user_id;
      auto alarm = clear ? d.alarms->clear(id, by) : d.alarms->acknowledge(id, by);
      if (!alarm.ok()) return respond_status(ex, alarm.status());
      if (d.changed) d.changed(*alarm, clear ? "cleared" : "acknowledged");
      ex.respond_json(status::ok, alarm_json(*alarm));
    });
  }

  AlarmDeps d_;
};

json::value alarm_schema() {
  auto nullable = [](const char* type) { return json::value{{"type", json::array{type, "null"}}}; };
  json::value text = {{"type", "string"}};
  json::value integer = {{"type", "integer"}};
  json::value model = model_ref_schema();
  return all_required(
      {{"type", "object"},
       {"properties",
        {{"id", integer},
         {"at", text},
         {"last_at", text},
         {"count", integer},
         {"device", nullable("string")},
         {"watchdog", nullable("string")},
         {"sensor", nullable("string")},
         {"model", model},
         {"severity", {{"enum", json::array{"warning", "minor", "major", "critical"}}}},
         {"source", {{"enum", json::array{"watchdog", "detector"}}}},
         {"state", {{"enum", json::array{"active", "acknowledged", "cleared"}}}},
         {"details", {{"type", "object"}}},
         {"ack_by", nullable("integer")},
         {"ack_at", nullable("string")},
         {"cleared_by", nullable("integer")},
         {"cleared_at", nullable("string")}}}});
}

json::value report_schema() {
  return {
      {"type", "object"},
      {"additionalProperties", false},
      {"required", json::array{"severity"}},
      {"properties",
       {{"id", {{"type", "string"}, {"minLength", 1}, {"maxLength", 128}}},
        {"at", {{"type", json::array{"string", "integer"}}}},
        {"severity", {{"enum", json::array{"warning", "minor", "major", "critical"}}}},
        {"model",
         {{"type", "object"},
          {"required", json::array{"name", "version"}},
          {"properties", {{"name", {{"type", "string"}}}, {"version", {{"type", "integer"}}}}}}},
        {"sensor", {{"type", "string"}, {"pattern", "^[A-Za-z0-9._-]{1,64}$"}}},
        {"details", {{"type", "object"}}}}}};
}

net::RouteSpec list_spec() {
  auto params = page_params();
  params.push_back({"device", "query", "Only this device's alarms"});
  params.push_back({"model", "query", "Only alarms about this model"});
  params.push_back({"version", "query", "With model: only this version"});
  params.push_back({"state", "query", "active, acknowledged or cleared"});
  params.push_back({"severity", "query", "warning, minor, major or critical"});
  params.push_back({"source", "query", "watchdog or detector"});
  params.push_back({"sensor", "query", "Only alarms about this sensor"});
  params.push_back({"since", "query",
                    "Alarms reported at or after this time (last_at >= since); RFC 3339 or "
                    "epoch milliseconds"});
  params.push_back({"until", "query", "Alarms raised before this time (at < until)"});
  return {.operation_id = "listAlarms",
          .summary = "List alarms, newest first",
          .tag = "alarms",
          .action = "alarms.read",
          .params = std::move(params),
          .responses = {{200, "A page of alarms", list_schema(alarm_schema())},
                        problem_response(422, "A filter's value is invalid (named)")}};
}

net::RouteSpec get_spec() {
  return {
      .operation_id = "getAlarm",
      .summary = "One alarm",
      .tag = "alarms",
      .action = "alarms.read",
      .responses = {{200, "The alarm", alarm_schema()}, problem_response(404, "No such alarm")}};
}

net::RouteSpec report_spec() {
  return {.operation_id = "reportAlarm",
          .summary =
              "A watchdog reports an alarm on its device (the REST fallback of the device "
              "WebSocket): counted into the open alarm of the same model version and sensor, "
              "or a new one; a resend with the same id is stored once",
          .tag = "alarms",
          .action = "alarms.report",
          .request_schema = report_schema(),
          .responses = {{201, "The alarm the report was counted into", alarm_schema()},
                        problem_response(403, "The caller is no enrolled watchdog"),
                        problem_response(413, "The body is larger than 64 KiB")},
          .max_body_bytes = kMaxAlarmBodyBytes};
}

net::RouteSpec change_spec(bool clear) {
  return {.operation_id = clear ? "clearAlarm" : "acknowledgeAlarm",
          .summary = clear ? "Clear an alarm (the next report of it opens a new one)"
                           : "Acknowledge an alarm (it stays open)",
          .tag = "alarms",
          .action = "alarms.write",
          .responses = {{200, "The alarm", alarm_schema()},
                        problem_response(404, "No such alarm"),
                        problem_response(409, "The alarm is cleared")}};
}

}  // namespace

void add_alarm_routes(net::Router& router, AlarmDeps deps) {
  auto h = std::make_shared<const AlarmHandlers>(deps);
  const std::string one = "/api/v1/alarms/{id}";
  router.add(verb::get, "/api/v1/alarms", list_spec(), bind(h, &AlarmHandlers::list));
  router.add(verb::post, "/api/v1/alarms", report_spec(), bind(h, &AlarmHandlers::report));
  router.add(verb::get, one, get_spec(), bind(h, &AlarmHandlers::get));
  router.add(verb::post, one + "/ack", change_spec(false), bind(h, &AlarmHandlers::acknowledge));
  router.add(verb::post, one + "/clear", change_spec(true), bind(h, &AlarmHandlers::clear));
}

}  // namespace vigil::api
