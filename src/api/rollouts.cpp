#include "api/rollouts.h"

#include <boost/json.hpp>

#include "api/fleet_json.h"
#include "api/handler.h"
#include "api/json_body.h"
#include "api/schemas.h"
#include "core/json_text.h"
#include "core/strings.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using net::http::verb;

namespace {

// A rollout as GET /rollouts/{id} shows it; list items leave out the history.
json::object rollout_json(const fleet::Rollout& r, bool with_history = true) {
  boost::system::error_code ec;
  json::value spec = parse_json(r.spec_json, ec);
  json::object o = spec.is_object() ? spec.as_object() : json::object{};
  o["id"] = r.id;
  o["state"] = fleet::to_string(r.state);
  o["reason"] = r.reason;
  o["created_at"] = r.created_at;
  o["created_by"] = r.created_by > 0 ? json::value(r.created_by) : json::value(nullptr);
  o["updated_at"] = r.updated_at;
  json::object counts;
  for (auto s : {"pending", "sent", "downloading", "applied", "confirmed", "failed", "timed_out",
                 "skipped"}) {
    auto it = r.counts.find(s);
    counts[s] = it == r.counts.end() ? 0 : it->second;
  }
  o["counts"] = std::move(counts);
  o["devices_url"] = "/api/v1/rollouts/" + std::to_string(r.id) + "/devices";
  if (!with_history) return o;
  json::array history;
  for (const auto& h : r.history) {
    history.push_back({{"at", h.at},
                       {"by", h.by_user > 0 ? json::value(h.by_user) : json::value(nullptr)},
                       {"from", text_or_null(h.from_state)},
                       {"to", h.to_state},
                       {"reason", h.reason}});
  }
  o["history"] = std::move(history);
  return o;
}

json::object rollout_device_json(const fleet::RolloutDevice& d) {
  return {{"device", d.device},
          {"position", d.position},
          {"wave", d.wave},
          {"state", d.state},
          {"target", model_ref_json(d.target)},
          {"from", model_ref_json(d.from)},
          {"command", d.command_id > 0 ? json::value(d.command_id) : json::value(nullptr)},
          {"sent_at", text_or_null(d.sent_at)},
          {"switched_at", text_or_null(d.switched_at)},
          {"reason", d.reason},
          {"updated_at", d.updated_at}};
}

std::optional<int64_t> rollout_id(net::Exchange& ex) {
  auto id = parse_int<int64_t>(ex.param("id"), 1);
  if (!id) ex.respond_problem(status::not_found, "no such rollout");
  return id;
}

// ?state= for rollouts or devices; answers 422 on a bad value.
template <class T>
bool read_state(net::Exchange& ex, std::optional<T>& out,
                std::optional<T> (*from)(std::string_view), const char* allowed) {
  auto s = ex.query("state");
  if (!s) return true;
  out = from(*s);
  if (!out) {
    ex.respond_problem(status::unprocessable_entity, "invalid query parameters",
                       {{"state", std::string("must be one of ") + allowed}});
    return false;
  }
  return true;
}

class RolloutHandlers {
 public:
  explicit RolloutHandlers(RolloutDeps d) : d_(d) {}

  void list(const ExchangePtr& ex) const {
    auto page = read_page(*ex);
    if (!page) return;
    std::optional<fleet::RolloutState> state;
    if (!read_state(*ex, state, &fleet::rollout_state_from,
                    "running, paused, halted, completed, aborted")) {
      return;
    }
    fleet::RolloutFilter f{
        .state = state, .limit = page->limit, .before_id = page->cursor.value_or(0)};
    off_io(*d_.blocking, ex, [d = d_, f](net::Exchange& ex) {
      auto list = d.rollouts->list(f);
      if (!list.ok()) return respond_status(ex, list.status());
      respond_list(
          ex, *list, f.limit, [](const fleet::Rollout& r) { return rollout_json(r, false); },
          [](const fleet::Rollout& r) { return r.id; });
    });
  }

  void create(const ExchangePtr& ex) const {
    auto spec = read_spec(*ex);
    if (!spec) return;
    off_io(*d_.blocking, ex, [d = d_, spec = *spec](net::Exchange& ex) {
      auto r = d.rollouts->create(spec, ex.principal()->user_id);
      if (!r.ok()) return respond_status(ex, r.status());
      respond_created(ex, "/api/v1/rollouts/" + std::to_string(r->id), rollout_json(*r));
    });
  }

  void preview(const ExchangePtr& ex) const {
    auto spec = read_spec(*ex);
    if (!spec) return;
    off_io(*d_.blocking, ex, [d = d_, spec = *spec](net::Exchange& ex) {
      auto p = d.rollouts->preview(spec);
      if (!p.ok()) return respond_status(ex, p.status());
      json::array waves, sample;
      for (int64_t n : p->waves) waves.push_back(n);
      for (const auto& n : p->sample) sample.push_back(json::value(n));
      ex.respond_json(status::ok, json::object{{"target", model_ref_json(p->target)},
                                               {"devices", p->devices},
                                               {"skipped", p->skipped},
                                               {"online", p->online},
                                               {"waves", std::move(waves)},
                                               {"sample", std::move(sample)}});
    });
  }

  void get(const ExchangePtr& ex) const {
    auto id = rollout_id(*ex);
    if (!id) return;
    off_io(*d_.blocking, ex, [d = d_, id = *id](net::Exchange& ex) {
      auto r = d.rollouts->get(id);
      if (!r.ok()) return respond_status(ex, r.status());
      ex.respond_json(status::ok, rollout_json(*r));
    });
  }

  void devices(const ExchangePtr& ex) const {
    auto id = rollout_id(*ex);
    if (!id) return;
    auto page = read_page(*ex);
    if (!page) return;
    std::optional<fleet::DeviceState> state;
    if (!read_state(*ex, state, &fleet::device_state_from,
                    "pending, sent, downloading, applied, confirmed, failed, timed_out, "
                    "skipped")) {
      return;
    }
    off_io(*d_.blocking, ex, [d = d_, id = *id, page = *page, state](net::Exchange& ex) {
      const int after = static_cast<int>(page.cursor.value_or(-1));
      auto list = d.rollouts->devices(id, state, page.limit, after);
      if (!list.ok()) return respond_status(ex, list.status());
      respond_list(ex, *list, page.limit, rollout_device_json,
                   [](const fleet::RolloutDevice& d) { return int64_t{d.position}; });
    });
  }

  void pause(const ExchangePtr& ex) const { act(ex, &fleet::RolloutService::pause); }
  void resume(const ExchangePtr& ex) const { act(ex, &fleet::RolloutService::resume); }
  void abort(const ExchangePtr& ex) const { act(ex, &fleet::RolloutService::abort); }

 private:
  // The body as a rollout spec; answers 400/422 (naming each bad field) and returns nullopt.
  static std::optional<fleet::RolloutSpec> read_spec(net::Exchange& ex) {
    auto body = read_json_object(ex);
    if (!body) return std::nullopt;
    auto parsed = fleet::parse_rollout_spec(json::serialize(*body));
    if (!parsed.spec) {
      std::vector<net::FieldError> errors;
      for (auto& [field, why] : parsed.errors) errors.push_back({field, why});
      ex.respond_problem(status::unprocessable_entity, "invalid rollout", errors);
    }
    return parsed.spec;
  }

  using Action = Expected<fleet::Rollout> (fleet::RolloutService::*)(int64_t, int64_t, std::string);
  // Body: optional {"reason"} (kept in the history); an empty body is fine.
  void act(const ExchangePtr& ex, Action action) const {
    auto id = rollout_id(*ex);
    if (!id) return;
    std::string reason;
    if (!ex->request().body().empty()) {
      auto body = read_json_object(*ex);
      if (!body) return;
      Fields f(*body);
      reason = f.optional_string("reason").value_or("");
      f.reject_unknown({"reason"});
      if (reason.size() > 1024) f.add("reason", "at most 1024 characters");
      if (!f.ok()) return f.respond(*ex);
    }
    off_io(*d_.blocking, ex, [d = d_, id = *id, reason, action](net::Exchange& ex) {
      auto r = ((*d.rollouts).*action)(id, ex.principal()->user_id, reason);
      if (!r.ok()) return respond_status(ex, r.status());
      ex.respond_json(status::ok, rollout_json(*r));
    });
  }

  RolloutDeps d_;
};

// The target of a spec: {model, version} (the request's spelling), or null.
json::value spec_target_schema() {
  return {{"type", json::array{"object", "null"}},
          {"required", json::array{"model", "version"}},
          {"properties", {{"model", {{"type", "string"}}}, {"version", {{"type", "integer"}}}}}};
}

json::value rollout_schema(bool with_history = true) {
  json::value integer = {{"type", "integer"}};
  json::object props{
      {"id", integer},
      {"state",
       {{"type", "string"},
        {"enum", json::array{"running", "paused", "halted", "completed", "aborted"}}}},
      {"reason", {{"type", "string"}}},
      {"select",
       {{"type", "object"},
        {"properties",
         {{"model", {{"type", "string"}}},
          {"version", integer},
          {"devices", {{"type", "array"}, {"items", {{"type", "string"}}}}},
          {"labels", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
          {"all", {{"type", "boolean"}}}}}}},
      {"action", {{"type", "string"}, {"enum", json::array{"update", "rollback", "blank"}}}},
      {"target", spec_target_schema()},
      {"canary_percent", integer},
      {"batch_size", integer},
      {"rate_per_minute", integer},
      {"max_failure_percent", integer},
      {"min_sample", integer},
      {"max_alarm_percent", integer},
      {"device_timeout_s", integer},
      {"confirm_s", integer},
      {"auto_rollback", {{"type", "boolean"}}},
      {"counts", all_required({{"type", "object"},
                               {"properties",
                                {{"pending", integer},
                                 {"sent", integer},
                                 {"downloading", integer},
                                 {"applied", integer},
                                 {"confirmed", integer},
                                 {"failed", integer},
                                 {"timed_out", integer},
                                 {"skipped", integer}}}})},
      {"created_at", {{"type", "string"}}},
      {"created_by", {{"type", json::array{"integer", "null"}}}},
      {"updated_at", {{"type", "string"}}},
      {"devices_url", {{"type", "string"}}}};
  if (with_history) {
    props["history"] = {
        {"type", "array"},
        {"items", all_required({{"type", "object"},
                                {"properties",
                                 {{"at", {{"type", "string"}}},
                                  {"by", {{"type", json::array{"integer", "null"}}}},
                                  {"from", {{"type", json::array{"string", "null"}}}},
                                  {"to", {{"type", "string"}}},
                                  {"reason", {{"type", "string"}}}}}})}};
  }
  return all_required({{"type", "object"}, {"properties", std::move(props)}});
}

json::value rollout_device_schema() {
  json::value nullable_text = {{"type", json::array{"string", "null"}}};
  return all_required({{"type", "object"},
                       {"properties",
                        {{"device", {{"type", "string"}}},
                         {"position", {{"type", "integer"}}},
                         {"wave", {{"type", "integer"}}},
                         {"state",
                          {{"type", "string"},
                           {"enum", json::array{"pending", "sent", "downloading", "applied",
                                                "confirmed", "failed", "timed_out", "skipped"}}}},
                         {"target", model_ref_schema()},
                         {"from", model_ref_schema()},
                         {"command", {{"type", json::array{"integer", "null"}}}},
                         {"sent_at", nullable_text},
                         {"switched_at", nullable_text},
                         {"reason", {{"type", "string"}}},
                         {"updated_at", {{"type", "string"}}}}}});
}

json::value preview_schema() {
  json::value integer = {{"type", "integer"}};
  return all_required({{"type", "object"},
                       {"properties",
                        {{"target", model_ref_schema()},
                         {"devices", integer},
                         {"skipped", integer},
                         {"online", integer},
                         {"waves", {{"type", "array"}, {"items", integer}}},
                         {"sample", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}});
}

json::value rollout_request_schema() {
  auto integer = [](int lo, int hi) {
    return json::value{{"type", "integer"}, {"minimum", lo}, {"maximum", hi}};
  };
  return {
      {"type", "object"},
      {"required", json::array{"select", "action"}},
      {"additionalProperties", false},
      {"properties",
       {{"select",
         {{"type", "object"},
          {"description",
           "{model, version} | {devices: [names]} | {labels: {k: v}} | {all: true}"}}},
        {"action", {{"type", "string"}, {"enum", json::array{"update", "rollback", "blank"}}}},
        {"target",
         {{"type", "object"},
          {"description", "update only: {model, version}"},
          {"properties", {{"model", {{"type", "string"}}}, {"version", {{"type", "integer"}}}}}}},
        {"canary_percent", integer(0, 100)},
        {"batch_size", integer(1, 100000)},
        {"rate_per_minute", integer(0, 1000000)},
        {"max_failure_percent", integer(0, 100)},
        {"min_sample", integer(1, 100000)},
        {"max_alarm_percent", integer(0, 100)},
        {"device_timeout_s", integer(1, 604800)},
        {"confirm_s", integer(0, 86400)},
        {"auto_rollback", {{"type", "boolean"}}}}}};
}

net::RouteSpec action_spec(const char* op, const char* summary) {
  return {.operation_id = op,
          .summary = summary,
          .tag = "fleet",
          .action = "rollouts.write",
          .request_schema = object_schema({{"reason", "string"}}),
          .responses = {{200, "The rollout", rollout_schema()},
                        problem_response(404, "No such rollout"),
                        problem_response(409, "The rollout's state does not allow it")}};
}

}  // namespace

void add_rollout_routes(net::Router& router, RolloutDeps deps) {
  auto h = std::make_shared<const RolloutHandlers>(deps);
  auto list_params = page_params();
  list_params.push_back({"state", "query", "running, paused, halted, completed or aborted"});
  router.add(verb::get, "/api/v1/rollouts",
             {.operation_id = "listRollouts",
              .summary = "List rollouts, newest first",
              .tag = "fleet",
              .action = "rollouts.read",
              .params = std::move(list_params),
              .responses = {{200, "A page of rollouts", list_schema(rollout_schema(false))}}},
             bind(h, &RolloutHandlers::list));
  router.add(verb::post, "/api/v1/rollouts",
             {.operation_id = "startRollout",
              .summary = "Start a rollout: the devices selected now, canary first, then batches",
              .tag = "fleet",
              .action = "rollouts.write",
              .request_schema = rollout_request_schema(),
              .responses = {{201, "Started", rollout_schema()},
                            problem_response(404, "A named device or the target is not stored")}},
             bind(h, &RolloutHandlers::create));
  router.add(verb::post, "/api/v1/rollouts/preview",
             {.operation_id = "previewRollout",
              .summary = "What a rollout would cover if it started now: devices selected, how "
                         "many would be skipped (already on the target, or no previous model to "
                         "roll back to), how many are online, the wave sizes, the first 20 names. "
                         "Stores nothing",
              .tag = "fleet",
              .action = "rollouts.read",
              .request_schema = rollout_request_schema(),
              .responses = {{200, "The preview", preview_schema()},
                            problem_response(404, "A named device or the target is not stored"),
                            problem_response(422, "Invalid rollout")}},
             bind(h, &RolloutHandlers::preview));
  router.add(verb::get, "/api/v1/rollouts/{id}",
             {.operation_id = "getRollout",
              .summary = "A rollout with its counts per device state and its history",
              .tag = "fleet",
              .action = "rollouts.read",
              .responses = {{200, "The rollout", rollout_schema()},
                            problem_response(404, "No such rollout")}},
             bind(h, &RolloutHandlers::get));
  auto device_params = page_params();
  device_params.push_back({"state", "query", "Only devices in this state"});
  router.add(verb::get, "/api/v1/rollouts/{id}/devices",
             {.operation_id = "listRolloutDevices",
              .summary = "The rollout's devices in order, with their states",
              .tag = "fleet",
              .action = "rollouts.read",
              .params = std::move(device_params),
              .responses = {{200, "A page of devices", list_schema(rollout_device_schema())},
                            problem_response(404, "No such rollout")}},
             bind(h, &RolloutHandlers::devices));
  router.add(verb::post, "/api/v1/rollouts/{id}/pause",
             action_spec("pauseRollout", "Pause a running rollout (nothing more is sent)"),
             bind(h, &RolloutHandlers::pause));
  router.add(verb::post, "/api/v1/rollouts/{id}/resume",
             action_spec("resumeRollout", "Resume a paused rollout"),
             bind(h, &RolloutHandlers::resume));
  router.add(verb::post, "/api/v1/rollouts/{id}/abort",
             action_spec("abortRollout", "Abort a rollout that is not finished"),
             bind(h, &RolloutHandlers::abort));
}

}  // namespace vigil::api
