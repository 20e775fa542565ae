#include "api/models.h"

#include <boost/json.hpp>

#include "api/handler.h"
#include "api/json_body.h"
#include "api/model_json.h"
#include "api/multipart.h"
#include "api/schemas.h"
#include "core/strings.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::field;
using net::http::status;
using net::http::verb;

std::optional<registry::Upload> read_upload(net::Exchange& ex, std::string name) {
  const auto& req = ex.request();
  std::string_view type(req[field::content_type].data(), req[field::content_type].size());
  registry::Upload up{.name = std::move(name)};
  if (auto k = ex.query("kind"); k && !k->empty()) up.kind = *k;
  if (iequals(type.substr(0, 19), "multipart/form-data")) {
    auto parts = parse_multipart(type, req.body());
    if (!parts.ok()) {
      respond_status(ex, malformed("", parts.status().message()));
      return std::nullopt;
    }
    bool have_file = false;
    for (const auto& p : *parts) {
      if (p.name == "file") {
        up.bytes = p.body;
        have_file = true;
      } else if (p.name == "metadata") {
        up.metadata = std::string(p.body);
      } else if (p.name == "kind" && !up.kind) {
        up.kind = std::string(p.body);
      }
    }
    if (!have_file) {
      respond_status(ex, invalid_field("file", "the multipart body has no file part"));
      return std::nullopt;
    }
    return up;
  }
  if (!type.empty() && !iequals(type.substr(0, 24), "application/octet-stream")) {
    ex.respond_problem(status::unsupported_media_type,
                       "send the model file as application/octet-stream (metadata in the "
                       "Vigil-Metadata header) or as multipart/form-data (parts file, metadata)");
    return std::nullopt;
  }
  up.bytes = req.body();
  if (auto h = req.find("Vigil-Metadata"); h != req.end()) up.metadata = std::string(h->value());
  const Principal* caller = ex.principal();
  up.user_id = caller ? caller->user_id : 0;
  return up;
}

namespace {

class ModelHandlers {
 public:
  explicit ModelHandlers(ModelDeps d) : d_(d) {}

  void upload(const ExchangePtr& ex) const {
    auto up = read_upload(*ex, std::string(ex->param("name")));
    if (!up) return;
    off_io(*d_.blocking, ex, [d = d_, up = std::move(*up)](net::Exchange& ex) {
      auto v = d.models->upload(up);
      if (!v.ok()) return respond_status(ex, v.status());
      respond_created(ex, version_location(*v), version_json(*v));
    });
  }

  void list(const ExchangePtr& ex) const {
    auto page = read_page(*ex);
    if (!page) return;
    off_io(*d_.blocking, ex, [d = d_, page = *page](net::Exchange& ex) {
      const Principal* p = ex.principal();
      auto models = d.models->registry().list(
          page.limit + 1, page.cursor,
          registry::Viewer{.user_id = p ? p->user_id : 0, .role = p ? p->role : ""});
      if (!models.ok()) return respond_status(ex, models.status());
      json::array items;
      std::optional<int64_t> next;
      for (size_t i = 0; i < models->size(); ++i) {
        if (i == static_cast<size_t>(page.limit)) {
          next = (*models)[i - 1].id;
          break;
        }
        items.push_back(model_json((*models)[i]));
      }
      respond_page(ex, std::move(items), next);
    });
  }

  void get(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      auto& registry = d.models->registry();
      auto m = registry.get(ex.param("name"));
      if (!m.ok()) return respond_status(ex, m.status());
      if (!check_model_access(ex, m->access, m->name)) return;
      auto versions = registry.versions(*m);
      if (!versions.ok()) return respond_status(ex, versions.status());
      auto history = registry.alias_history(*m, 100);
      if (!history.ok()) return respond_status(ex, history.status());
      ex.respond_json(status::ok, model_detail_json(*m, *versions, *history));
    });
  }

  void get_version(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      auto v = d.models->registry().resolve(ex.param("name"), ex.param("v"));
      if (!v.ok()) return respond_status(ex, v.status());
      if (!check_model_access(ex, v->access, v->model)) return;
      ex.respond_json(status::ok, version_json(*v));
    });
  }

  void set_alias(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    auto version = f.optional_int("version");
    if (!version) f.add("version", "required: the version number");
    f.reject_unknown({"version"});
    if (!f.ok()) return f.respond(*ex);
    const Principal* caller = ex->principal();
    int64_t user_id = caller ? caller->user_id : 0;
    off_io(*d_.blocking, ex, [d = d_, version = *version, user_id](net::Exchange& ex) {
      auto move = d.models->set_alias(ex.param("name"), ex.param("alias"), version, user_id);
      if (!move.ok()) return respond_status(ex, move.status());
      ex.respond_json(status::ok, alias_move_json(*move));
    });
  }

  // PATCH {visibility?, owner?, readers?, description?} (admin).
  void update(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    f.reject_unknown({"visibility", "owner", "readers", "description"});
    registry::AccessChange c;
    if (auto v = f.optional_string("visibility")) {
      if (*v != "public" && *v != "private") f.add("visibility", "public or private");
      c.is_private = *v == "private";
    }
    if (const json::value* o = body->if_contains("owner")) {
      if (o->is_null())
        c.owner_id = 0;
      else if (o->is_int64() && o->get_int64() > 0)
        c.owner_id = o->get_int64();
      else
        f.add("owner", "a user id, or null for none");
    }
    if (const json::value* r = body->if_contains("readers")) {
      std::vector<int64_t> ids;
      if (!r->is_array())
        f.add("readers", "an array of user ids");
      else {
        for (const auto& id : r->get_array()) {
          if (id.is_int64() && id.get_int64() > 0)
            ids.push_back(id.get_int64());
          else
            f.add("readers", "an array of user ids");
        }
      }
      c.readers = std::move(ids);
    }
    c.description = f.optional_string("description");
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, c = std::move(c)](net::Exchange& ex) {
      auto m = d.models->set_access(ex.param("name"), c);
      if (!m.ok()) return respond_status(ex, m.status());
      ex.respond_json(status::ok, model_json(*m));
    });
  }

  void remove_version(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [d = d_](net::Exchange& ex) {
      Status s = d.models->delete_version(ex.param("name"), ex.param("v"));
      if (!s.ok()) return respond_status(ex, s);
      ex.respond(net::HttpResponse{status::no_content, 11});
    });
  }

 private:
  static std::string version_location(const registry::ModelVersion& v) {
    return "/api/v1/models/" + v.model + "/versions/" + std::to_string(v.version);
  }

  ModelDeps d_;
};

net::RouteSpec upload_spec(int64_t max_upload_bytes) {
  return {.operation_id = "createModelVersion",
          .summary = "Upload a model file as the next version (creates the model on first upload)",
          .tag = "models",
          .action = "models.write",
          .params = {{"kind", "query", "Runtime of a new model: xgboost, linear, blank, …"},
                     {"Vigil-Metadata", "header", "The version's metadata, a JSON object"}},
          .request_schema = json::object{{"type", "string"}, {"format", "binary"}},
          .request_content_type = "application/octet-stream",
          .responses = {{201, "Created", version_schema()},
                        problem_response(400, "Metadata that is not a JSON object"),
                        problem_response(409, "The model exists with another kind"),
                        problem_response(413, "Larger than models.max_upload_mb"),
                        problem_response(415, "Neither octet-stream nor multipart"),
                        problem_response(
                            422, "Bad name, kind or metadata, or the runtime cannot load it")},
          .max_body_bytes = max_upload_bytes};
}

net::RouteSpec list_spec() {
  return {.operation_id = "listModels",
          .summary = "Models with their kind, latest version and aliases, by name",
          .tag = "models",
          .action = "models.read",
          .params = page_params(),
          .responses = {{200, "A page of models", list_schema(model_schema())}}};
}

net::RouteSpec get_spec() {
  return {.operation_id = "getModel",
          .summary = "A model with all its versions and the latest 100 alias moves",
          .tag = "models",
          .action = "models.read",
          .responses = {{200, "The model", model_detail_schema()},
                        problem_response(403, "A private model the caller may not read"),
                        problem_response(404, "No such model")}};
}

net::RouteSpec update_spec() {
  return {.operation_id = "updateModel",
          .summary =
              "Who may use a model (visibility public|private, owner, readers) and its "
              "description (admin)",
          .tag = "models",
          .action = "models.write",
          .request_schema =
              json::object{{"type", "object"},
                           {"additionalProperties", false},
                           {"properties",
                            {{"visibility", {{"enum", json::array{"public", "private"}}}},
                             {"owner", {{"type", json::array{"integer", "null"}}}},
                             {"readers", {{"type", "array"}, {"items", {{"type", "integer"}}}}},
                             {"description", {{"type", "string"}}}}}},
          .responses = {{200, "The model", model_schema()},
                        problem_response(404, "No such model"),
                        problem_response(422, "A bad value, or a user id that is not a user")}};
}

net::RouteSpec get_version_spec() {
  return {.operation_id = "getModelVersion",
          .summary = "One version; {v} is a number, latest, or an alias",
          .tag = "models",
          .action = "models.read",
          .responses = {{200, "The version", version_schema()},
                        problem_response(404, "No such model or version")}};
}

net::RouteSpec set_alias_spec() {
  return {.operation_id = "setModelAlias",
          .summary = "Point an alias at a version (the move is kept in the alias history)",
          .tag = "models",
          .action = "models.write",
          .request_schema = object_schema({{"version", "integer"}}, {"version"}),
          .responses = {
              {200, "The alias moved",
               object_schema(
                   {{"alias", "string"}, {"version", "integer"}, {"previous_version", "integer"}})},
              problem_response(404, "No such model or version"),
              problem_response(422, "Bad alias or version")}};
}

net::RouteSpec remove_version_spec() {
  return {.operation_id = "deleteModelVersion",
          .summary = "Delete a version; refused (409) while an alias or a device uses it",
          .tag = "models",
          .action = "models.write",
          .responses = {{204, "Deleted"},
                        problem_response(404, "No such model or version"),
                        problem_response(409, "In use")}};
}

}  // namespace

void add_model_routes(net::Router& router, ModelDeps deps) {
  auto h = std::make_shared<const ModelHandlers>(deps);
  const std::string versions = "/api/v1/models/{name}/versions";
  router.add(verb::post, versions, upload_spec(deps.max_upload_bytes),
             bind(h, &ModelHandlers::upload));
  router.add(verb::get, "/api/v1/models", list_spec(), bind(h, &ModelHandlers::list));
  router.add(verb::get, "/api/v1/models/{name}", get_spec(), bind(h, &ModelHandlers::get));
  router.add(verb::patch, "/api/v1/models/{name}", update_spec(), bind(h, &ModelHandlers::update));
  router.add(verb::get, versions + "/{v}", get_version_spec(),
             bind(h, &ModelHandlers::get_version));
  router.add(verb::put, "/api/v1/models/{name}/aliases/{alias}", set_alias_spec(),
             bind(h, &ModelHandlers::set_alias));
  router.add(verb::delete_, versions + "/{v}", remove_version_spec(),
             bind(h, &ModelHandlers::remove_version));
}

}  // namespace vigil::api
