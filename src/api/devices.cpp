#include "api/devices.h"

#include <boost/json.hpp>

#include "api/fleet_json.h"
#include "api/handler.h"
#include "api/json_body.h"
#include "api/model_json.h"
#include "api/models.h"
#include "api/schemas.h"
#include "core/ids.h"
#include "core/strings.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using net::http::verb;

namespace {

json::object device_json(const fleet::Device& d, std::string_view now) {
  json::object labels;
  for (const auto& [k, v] : d.labels) labels[k] = v;
  return {{"id", d.id},
          {"name", d.name},
          {"type", d.type},
          {"labels", std::move(labels)},
          {"model", model_ref_json(d.model)},
          {"running", model_ref_json(d.running)},
          {"previous_model", model_ref_json(d.previous)},
          {"online", d.online_at(now)},
          {"last_seen", text_or_null(d.last_seen)},
          {"created_at", d.created_at}};
}

// ?type= ?label=k:v (repeatable) ?model= ?version= plus the page; answers 422 and returns
// nullopt on a bad value.
std::optional<fleet::DeviceFilter> read_filter(net::Exchange& ex) {
  auto page = read_page(ex);
  if (!page) return std::nullopt;
  fleet::DeviceFilter f{.type = ex.query("type"),
                        .model = ex.query("model"),
                        .limit = page->limit,
                        .after_id = page->cursor.value_or(0)};
  std::vector<net::FieldError> errors;
  // The session checked the target's escapes, so this decodes.
  auto decoded = net::decode_query(ex.raw_query());
  std::vector<std::pair<std::string, std::string>> pairs;
  if (decoded.ok()) pairs = std::move(*decoded);
  for (const auto& [key, value] : pairs) {
    if (key != "label") continue;
    auto colon = value.find(':');
    if (colon == std::string::npos) {
      errors.push_back({"label", "must be key:value"});
      continue;
    }
    f.labels[value.substr(0, colon)] = value.substr(colon + 1);
  }
  if (auto v = ex.query("version")) {
    f.version = parse_int<int64_t>(*v, 1);
    if (!f.version) errors.push_back({"version", "must be a version number from 1"});
  }
  if (auto v = ex.query("online")) {
    if (*v == "true" || *v == "1") {
      f.online = true;
    } else if (*v == "false" || *v == "0") {
      f.online = false;
    } else {
      errors.push_back({"online", "must be true or false"});
    }
  }
  if (!errors.empty()) {
    ex.respond_problem(status::unprocessable_entity, "invalid query parameters", errors);
    return std::nullopt;
  }
  return f;
}

json::object watchdog_json(const fleet::Watchdog& w, std::string_view now) {
  return {{"name", w.name},
          {"device", w.device},
          {"agent", w.agent},
          {"running", model_ref_json(w.running)},
          {"online", w.online_at(now)},
          {"last_seen", text_or_null(w.last_seen)},
          {"created_at", w.created_at}};
}

class DeviceHandlers {
 public:
  explicit DeviceHandlers(DeviceDeps d) : d_(d) {}

  void list(const ExchangePtr& ex) const {
    auto filter = read_filter(*ex);
    if (!filter) return;
    off_io(*d_.blocking, ex, [d = d_, f = *filter](net::Exchange& ex) {
      auto devices = d.devices->list(f);
      if (!devices.ok()) return respond_status(ex, devices.status());
      const std::string now = now_rfc3339();
      respond_list(
          ex, *devices, f.limit, [&](const fleet::Device& dev) { return device_json(dev, now); },
          [](const fleet::Device& dev) { return dev.id; });
    });
  }

  void create(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    std::string name = f.required_string("name");
    std::string type = f.optional_string("type").value_or("unknown");
    auto labels = f.optional_string_map("labels").value_or(fleet::Labels{});
    f.reject_unknown({"name", "type", "labels"});
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, name, type, labels](net::Exchange& ex) {
      auto dev = d.devices->create(name, type, labels, ex.principal()->user_id);
      if (!dev.ok()) return respond_status(ex, dev.status());
      respond_created(ex, "/api/v1/devices/" + dev->name, device_json(*dev, now_rfc3339()));
    });
  }

  void get(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      auto dev = d.devices->get(ex.param("name"));
      if (!dev.ok()) return respond_status(ex, dev.status());
      ex.respond_json(status::ok, device_json(*dev, now_rfc3339()));
    });
  }

  void update(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    fleet::DeviceUpdate change{.type = f.optional_string("type"),
                               .labels = f.optional_string_map("labels")};
    f.reject_unknown({"type", "labels"});
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, change](net::Exchange& ex) {
      auto dev = d.devices->update(ex.param("name"), change);
      if (!dev.ok()) return respond_status(ex, dev.status());
      ex.respond_json(status::ok, device_json(*dev, now_rfc3339()));
    });
  }

  void remove(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      if (Status s = d.devices->remove(ex.param("name")); !s.ok()) return respond_status(ex, s);
      ex.respond(net::HttpResponse{status::no_content, 11});
    });
  }

  // PUT {model, version}: the version must be stored (404 otherwise).
  void assign(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    std::string model = f.required_string("model");
    auto version = f.optional_int("version");
    if (!version && f.ok()) f.add("version", "required");
    f.reject_unknown({"model", "version"});
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, model, v = *version](net::Exchange& ex) {
      auto stored = d.models->resolve(model, std::to_string(v));
      if (!stored.ok()) return respond_status(ex, stored.status());
      auto a = d.hub->assign(ex.param("name"), {stored->model, stored->version});
      if (!a.ok()) return respond_status(ex, a.status());
      ex.respond_json(status::ok, device_json(a->device, now_rfc3339()));
    });
  }

  // The "store model" flow: the upload becomes the next version of the device's model (named
  // after the device unless ?model=) and is assigned to it, pushed to its sessions.
  void store_model(const ExchangePtr& ex) const {
    auto model = ex->query("model");
    if (model && model->empty()) model.reset();
    auto up = read_upload(*ex, model.value_or(""));
    if (!up) return;
    off_io(*d_.blocking, ex, [d = d_, up = std::move(*up)](net::Exchange& ex) mutable {
      auto dev = d.devices->get(ex.param("name"));  // 404 before anything is stored
      if (!dev.ok()) return respond_status(ex, dev.status());
      if (up.name.empty()) up.name = dev->name;  // as the device's name is stored
      auto v = d.model_service->upload(up);
      if (!v.ok()) return respond_status(ex, v.status());
      auto a = d.hub->assign(dev->name, {v->model, v->version});
      if (!a.ok()) return respond_status(ex, a.status());
      json::object body = version_json(*v).as_object();
      body["device"] = device_json(a->device, now_rfc3339());
      respond_created(ex, "/api/v1/models/" + v->model + "/versions/" + std::to_string(v->version),
                      body);
    });
  }

  // POST {expires_in_s?} → {code, expires_at}: the code is shown this once.
  void create_enrollment(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    auto ttl = f.optional_int("expires_in_s").value_or(24 * 3600);
    f.reject_unknown({"expires_in_s"});
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, ttl](net::Exchange& ex) {
      auto code = d.watchdogs->create_code(ex.param("name"), std::chrono::seconds(ttl),
                                           ex.principal()->user_id);
      if (!code.ok()) return respond_status(ex, code.status());
      ex.respond_json(status::created,
                      json::object{{"code", code->code}, {"expires_at", code->expires_at}});
    });
  }

  // POST {code, watchdog} (anonymous) → {watchdog, device, token, signing_key}.
  void enroll(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    std::string code = f.required_string("code");
    std::string name = f.required_string("watchdog");
    f.reject_unknown({"code", "watchdog"});
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, code, name](net::Exchange& ex) {
      auto e = d.watchdogs->enroll(code, name);
      if (!e.ok()) return respond_status(ex, e.status());
      ex.respond_json(status::created, json::object{{"watchdog", e->watchdog.name},
                                                    {"device", e->watchdog.device},
                                                    {"token", e->token},
                                                    {"signing_key", d.signing_key}});
    });
  }

  void list_watchdogs(const ExchangePtr& ex) const {
    auto page = read_page(*ex);
    if (!page) return;
    off_io(*d_.blocking, ex,
           [d = d_, page = *page, device = ex->query("device")](net::Exchange& ex) {
             auto list = d.watchdogs->list(page.limit, page.cursor.value_or(0), device);
             if (!list.ok()) return respond_status(ex, list.status());
             const std::string now = now_rfc3339();
             respond_list(
                 ex, *list, page.limit,
                 [&](const fleet::Watchdog& w) { return watchdog_json(w, now); },
                 [](const fleet::Watchdog& w) { return w.id; });
           });
  }

  void remove_watchdog(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      auto w = d.watchdogs->get(ex.param("name"));
      if (!w.ok()) return respond_status(ex, w.status());
      if (Status s = d.watchdogs->remove(ex.param("name")); !s.ok()) return respond_status(ex, s);
      d.hub->disconnect_user(w->user_id, "the watchdog was deleted");
      ex.respond(net::HttpResponse{status::no_content, 11});
    });
  }

  void signing_key(const ExchangePtr& ex) const {
    ex->respond_json(status::ok,
                     json::object{{"algorithm", "ed25519"}, {"public_key", d_.signing_key}});
  }

 private:
  DeviceDeps d_;
};

json::value device_schema() {
  json::value model = model_ref_schema();
  return all_required(
      {{"type", "object"},
       {"properties",
        {{"id", {{"type", "integer"}}},
         {"name", {{"type", "string"}}},
         {"type", {{"type", "string"}}},
         {"labels", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
         {"model", model},
         {"running", model},
         {"previous_model", model},
         {"online", {{"type", "boolean"}}},
         {"last_seen", {{"type", json::array{"string", "null"}}}},
         {"created_at", {{"type", "string"}}}}}});
}

json::value device_request_schema(bool create) {
  json::object props{
      {"type", {{"type", "string"}, {"pattern", "^[a-z0-9_-]{1,32}$"}}},
      {"labels", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}}};
  return named_request_schema(std::move(props), create);
}

net::RouteSpec list_spec() {
  auto params = page_params();
  params.push_back({"type", "query", "Only devices of this type"});
  params.push_back({"label", "query", "key:value; repeat for several (all must match)"});
  params.push_back({"model", "query", "Only devices whose desired model has this name"});
  params.push_back({"version", "query", "With model: only this desired version"});
  params.push_back(
      {"online", "query", "true: only devices with a live session; false: the others"});
  return {.operation_id = "listDevices",
          .summary = "List devices",
          .tag = "fleet",
          .action = "devices.read",
          .params = std::move(params),
          .responses = {{200, "A page of devices", list_schema(device_schema())}}};
}

net::RouteSpec create_spec() {
  return {.operation_id = "createDevice",
          .summary = "Register a device",
          .tag = "fleet",
          .action = "devices.write",
          .request_schema = device_request_schema(true),
          .responses = {{201, "Created", device_schema()},
                        problem_response(409, "A device has this name (in any case)")}};
}

net::RouteSpec get_spec() {
  return {.operation_id = "getDevice",
          .summary = "One device: desired, running and previous model",
          .tag = "fleet",
          .action = "devices.read",
          .responses = {{200, "The device", device_schema()}}};
}

net::RouteSpec update_spec() {
  return {.operation_id = "updateDevice",
          .summary = "Change a device's type or labels (labels replace all)",
          .tag = "fleet",
          .action = "devices.write",
          .request_schema = device_request_schema(false),
          .responses = {{200, "The changed device", device_schema()}}};
}

net::RouteSpec remove_spec() {
  return {.operation_id = "deleteDevice",
          .summary = "Delete a device",
          .tag = "fleet",
          .action = "devices.write",
          .responses = {{204, "Deleted"}}};
}

net::RouteSpec assign_spec() {
  return {.operation_id = "assignDeviceModel",
          .summary =
              "Assign a stored model version to a device (the one it replaces becomes "
              "previous_model)",
          .tag = "fleet",
          .action = "devices.write",
          .request_schema =
              object_schema({{"model", "string"}, {"version", "integer"}}, {"model", "version"}),
          .responses = {{200, "The device", device_schema()},
                        problem_response(404, "No such device, model or version")}};
}

json::value watchdog_schema() {
  return all_required({{"type", "object"},
                       {"properties",
                        {{"name", {{"type", "string"}}},
                         {"device", {{"type", "string"}}},
                         {"agent", {{"type", "string"}}},
                         {"running", model_ref_schema()},
                         {"online", {{"type", "boolean"}}},
                         {"last_seen", {{"type", json::array{"string", "null"}}}},
                         {"created_at", {{"type", "string"}}}}}});
}

net::RouteSpec store_model_spec(int64_t max_upload_bytes) {
  return {
      .operation_id = "storeDeviceModel",
      .summary =
          "Upload a model for this device: stored as the next version of its model (named "
          "after the device unless ?model=) and assigned to it (17 uploads: versions 1..17)",
      .tag = "fleet",
      .action = "devices.write",
      .params = {{"model", "query", "The model to store it under (default: the device's name)"},
                 {"kind", "query", "Runtime of a new model: xgboost, linear, blank, …"},
                 {"Vigil-Metadata", "header", "The version's metadata, a JSON object"}},
      .request_schema = json::object{{"type", "string"}, {"format", "binary"}},
      .request_content_type = "application/octet-stream",
      .responses = {{201, "The stored version, with the device it is assigned to",
                     json::object{{"type", "object"}}},
                    problem_response(404, "No such device"),
                    problem_response(409, "The model exists with another kind"),
                    problem_response(413, "Larger than models.max_upload_mb"),
                    problem_response(422, "Bad kind or metadata, or the runtime cannot load it")},
      .max_body_bytes = max_upload_bytes};
}

net::RouteSpec enrollment_spec() {
  return {.operation_id = "createEnrollment",
          .summary =
              "A single-use code (16 characters, shown once) an agent enrolls this "
              "device's watchdog with; expires_in_s defaults to 24 h (at most 30 days)",
          .tag = "fleet",
          .action = "devices.write",
          .request_schema = object_schema({{"expires_in_s", "integer"}}),
          .responses = {{201, "The code",
                         object_schema({{"code", "string"}, {"expires_at", "string"}},
                                       {"code", "expires_at"})}}};
}

net::RouteSpec enroll_spec() {
  return {.operation_id = "enroll",
          .summary =
              "Redeem an enrollment code: the watchdog, its device and a long-lived "
              "token (role watchdog; revoked by deleting the watchdog)",
          .tag = "fleet",
          .action = "public",
          .request_schema =
              object_schema({{"code", "string"}, {"watchdog", "string"}}, {"code", "watchdog"}),
          .responses = {{201, "Enrolled",
                         object_schema({{"watchdog", "string"},
                                        {"device", "string"},
                                        {"token", "string"},
                                        {"signing_key", "string"}})},
                        problem_response(401, "The code is unknown, used or expired"),
                        problem_response(409, "A watchdog has this name")}};
}

net::RouteSpec list_watchdogs_spec() {
  auto params = page_params();
  params.push_back({"device", "query", "Only this device's watchdogs"});
  return {.operation_id = "listWatchdogs",
          .summary = "List watchdogs",
          .tag = "fleet",
          .action = "devices.read",
          .params = std::move(params),
          .responses = {{200, "A page of watchdogs", list_schema(watchdog_schema())}}};
}

net::RouteSpec remove_watchdog_spec() {
  return {.operation_id = "deleteWatchdog",
          .summary = "Delete a watchdog: its token stops working",
          .tag = "fleet",
          .action = "devices.write",
          .responses = {{204, "Deleted"}}};
}

net::RouteSpec signing_key_spec() {
  return {.operation_id = "getSigningKey",
          .summary = "The Ed25519 public key every model a device is told to run is signed with",
          .tag = "fleet",
          .action = "fleet.key",
          .responses = {{200, "The key",
                         object_schema({{"algorithm", "string"}, {"public_key", "string"}})}}};
}

}  // namespace

void add_device_routes(net::Router& router, DeviceDeps deps) {
  auto h = std::make_shared<const DeviceHandlers>(deps);
  const std::string one = "/api/v1/devices/{name}";
  router.add(verb::get, "/api/v1/devices", list_spec(), bind(h, &DeviceHandlers::list));
  router.add(verb::post, "/api/v1/devices", create_spec(), bind(h, &DeviceHandlers::create));
  router.add(verb::get, one, get_spec(), bind(h, &DeviceHandlers::get));
  router.add(verb::patch, one, update_spec(), bind(h, &DeviceHandlers::update));
  router.add(verb::delete_, one, remove_spec(), bind(h, &DeviceHandlers::remove));
  router.add(verb::put, one + "/model", assign_spec(), bind(h, &DeviceHandlers::assign));
  router.add(verb::post, one + "/models", store_model_spec(deps.max_upload_bytes),
             bind(h, &DeviceHandlers::store_model));
  router.add(verb::post, one + "/enrollments", enrollment_spec(),
             bind(h, &DeviceHandlers::create_enrollment));
  router.add(verb::post, "/api/v1/enroll", enroll_spec(), bind(h, &DeviceHandlers::enroll));
  router.add(verb::get, "/api/v1/watchdogs", list_watchdogs_spec(),
             bind(h, &DeviceHandlers::list_watchdogs));
  router.add(verb::delete_, "/api/v1/watchdogs/{name}", remove_watchdog_spec(),
             bind(h, &DeviceHandlers::remove_watchdog));
  router.add(verb::get, "/api/v1/fleet/signing-key", signing_key_spec(),
             bind(h, &DeviceHandlers::signing_key));
}

}  // namespace vigil::api
