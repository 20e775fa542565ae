#include "api/models.h"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <charconv>
#include <set>

#include "api/json_body.h"
#include "api/multipart.h"
#include "api/openapi.h"
#include "api/schemas.h"
#include "core/names.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::field;
using net::http::status;
using net::http::verb;
using ExchangePtr = std::shared_ptr<net::Exchange>;

namespace {

constexpr size_t kMaxMetadataBytes = 64 << 10;
constexpr size_t kMaxFeatures = 100000;

json::value user_ref(int64_t id) { return id > 0 ? json::value(id) : json::value(nullptr); }

json::value version_json(const registry::ModelVersion& v) {
  boost::system::error_code ec;
  json::value metadata = json::parse(v.metadata, ec);
  if (ec || !metadata.is_object()) metadata = json::object();
  json::array aliases;
  for (const auto& a : v.aliases) aliases.emplace_back(a);
  return json::object{{"model", v.model},
                      {"version", v.version},
                      {"kind", v.kind},
                      {"sha256", v.sha256},
                      {"size", v.size},
                      {"created_at", v.created_at},
                      {"created_by", user_ref(v.created_by)},
                      {"metadata", std::move(metadata)},
                      {"aliases", std::move(aliases)}};
}

json::object model_json(const registry::Model& m) {
  json::object aliases;
  for (const auto& [alias, version] : m.aliases) aliases[alias] = version;
  return {{"name", m.name},
          {"kind", m.kind},
          {"latest_version", m.latest_version ? json::value(m.latest_version) : json::value()},
          {"aliases", std::move(aliases)},
          {"created_at", m.created_at},
          {"created_by", user_ref(m.created_by)}};
}

json::value version_schema() {
  return json::object{{"type", "object"},
                      {"properties",
                       {{"model", {{"type", "string"}}},
                        {"version", {{"type", "integer"}}},
                        {"kind", {{"type", "string"}}},
                        {"sha256", {{"type", "string"}}},
                        {"size", {{"type", "integer"}}},
                        {"created_at", {{"type", "string"}, {"format", "date-time"}}},
                        {"created_by", {{"type", json::array{"integer", "null"}}}},
                        {"metadata", {{"type", "object"}}},
                        {"aliases", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
}

json::value model_schema() {
  return json::object{{"type", "object"},
                      {"properties",
                       {{"name", {{"type", "string"}}},
                        {"kind", {{"type", "string"}}},
                        {"latest_version", {{"type", json::array{"integer", "null"}}}},
                        {"aliases", {{"type", "object"}}},
                        {"created_at", {{"type", "string"}, {"format", "date-time"}}}}}};
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Runs fn on the blocking pool; a store error becomes the contract's problem response.
template <typename Fn>
void off_io(const ModelDeps& d, const ExchangePtr& ex, Fn fn) {
  boost::asio::post(*d.blocking, [ex, fn = std::move(fn)]() mutable { fn(*ex); });
}

struct ByteRange {
  uint64_t first = 0;
  uint64_t length = 0;
};

// "bytes=a-b" | "bytes=a-" | "bytes=-n" against `size`. nullopt + ok: ignore the header (serve
// everything: several ranges, another unit); a Status: unsatisfiable (416).
Expected<std::optional<ByteRange>> parse_range(std::string_view header, uint64_t size) {
  auto number = [](std::string_view s, uint64_t& out) {
    if (s.empty() || s.size() > 19) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  };
  if (!header.starts_with("bytes=")) return std::optional<ByteRange>();
  std::string_view spec = header.substr(6);
  if (spec.find(',') != std::string_view::npos) return std::optional<ByteRange>();
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::optional<ByteRange>();
  uint64_t a = 0, b = 0;
  std::string_view left = spec.substr(0, dash), right = spec.substr(dash + 1);
  if (left.empty()) {
    if (!number(right, b)) return std::optional<ByteRange>();
    if (b == 0 || size == 0) return failed_precondition("unsatisfiable range");
    b = std::min(b, size);
    return std::optional<ByteRange>(ByteRange{size - b, b});
  }
  if (!number(left, a)) return std::optional<ByteRange>();
  if (a >= size) return failed_precondition("unsatisfiable range");
  if (right.empty()) return std::optional<ByteRange>(ByteRange{a, size - a});
  if (!number(right, b) || b < a) return std::optional<ByteRange>();
  b = std::min(b, size - 1);
  return std::optional<ByteRange>(ByteRange{a, b - a + 1});
}

// The upload's parts: the file's bytes (a view into the request body) and its metadata text.
struct Upload {
  std::string_view bytes;
  std::string metadata = "{}";
  std::optional<std::string> kind;
};

std::optional<Upload> read_upload(net::Exchange& ex) {
  const auto& req = ex.request();
  std::string content_type = lower(req[field::content_type]);
  Upload up;
  if (auto k = ex.query("kind"); k && !k->empty()) up.kind = *k;
  if (content_type.starts_with("multipart/form-data")) {
    auto parts = parse_multipart(req[field::content_type], req.body());
    if (!parts.ok()) {
      ex.respond_problem(status::bad_request, parts.status().message());
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
      ex.respond_problem(status::unprocessable_entity, "file: the multipart body has no file part",
                         {{"file", "required"}});
      return std::nullopt;
    }
  } else if (content_type.empty() || content_type.starts_with("application/octet-stream")) {
    up.bytes = req.body();
    if (auto h = req.find("Vigil-Metadata"); h != req.end()) up.metadata = std::string(h->value());
  } else {
    ex.respond_problem(status::unsupported_media_type,
                       "send the model file as application/octet-stream (metadata in the "
                       "Vigil-Metadata header) or as multipart/form-data (parts file, metadata)");
    return std::nullopt;
  }
  return up;
}

}  // namespace

Status validate_model_metadata(const json::object& m) {
  if (const auto* f = m.if_contains("features")) {
    if (!f->is_array()) return invalid_field("metadata.features", "must be an array of names");
    if (f->as_array().size() > kMaxFeatures) {
      return invalid_field("metadata.features", "at most 100000 features");
    }
    std::set<std::string_view> seen;
    for (const auto& name : f->as_array()) {
      if (!name.is_string() || name.as_string().empty() || name.as_string().size() > 256) {
        return invalid_field("metadata.features", "every feature is a name of 1-256 characters");
      }
      if (!seen.insert(std::string_view(name.as_string())).second) {
        return invalid_field("metadata.features", std::string(name.as_string()) +
                                " appears twice");
      }
    }
  }
  if (const auto* p = m.if_contains("price_per_row")) {
    if (!p->is_number() || p->to_number<double>() < 0 || p->to_number<double>() > 1e9) {
      return invalid_field("metadata.price_per_row", "must be a number of credits, 0 or more");
    }
  }
  if (const auto* t = m.if_contains("alarm_threshold")) {
    if (!t->is_number()) return invalid_field("metadata.alarm_threshold", "must be a number");
  }
  if (const auto* s = m.if_contains("description")) {
    if (!s->is_string()) return invalid_field("metadata.description", "must be a string");
  }
  return {};
}

void add_model_routes(net::Router& router, ModelDeps d) {
  const net::ParamSpec kind_param{"kind", "query",
                                  "Runtime of a new model: xgboost, linear, blank, …"};

  // ---- upload a version
  router.add(
      verb::post, "/api/v1/models/{name}/versions",
      {.operation_id = "createModelVersion",
       .summary = "Upload a model file as the next version (creates the model on first upload)",
       .tag = "models",
       .action = "models.write",
       .params = {kind_param,
                  {"Vigil-Metadata", "header", "The version's metadata, a JSON object"}},
       .request_schema = json::object{{"type", "string"}, {"format", "binary"}},
       .request_content_type = "application/octet-stream",
       .responses = {{201, "Created", version_schema()},
                     problem_response(409, "The model exists with another kind"),
                     problem_response(413, "Larger than models.max_upload_mb"),
                     problem_response(415, "Neither octet-stream nor multipart"),
                     problem_response(422,
                                      "Bad name, kind or metadata, or the runtime cannot load it")},
       .max_body_bytes = d.max_upload_bytes},
      [d](const ExchangePtr& ex) {
        std::string name(ex->param("name"));
        if (auto why = name_error(name)) {
          return ex->respond_problem(status::unprocessable_entity, "name: " + *why,
                                     {{"name", *why}});
        }
        auto up = read_upload(*ex);
        if (!up) return;
        if (up->metadata.size() > kMaxMetadataBytes) {
          return ex->respond_problem(status::unprocessable_entity, "metadata: larger than 64 KiB",
                                     {{"metadata", "too large"}});
        }
        boost::system::error_code ec;
        json::value metadata = json::parse(up->metadata, ec);
        if (ec || !metadata.is_object()) {
          return ex->respond_problem(status::bad_request, "metadata: not a JSON object");
        }
        if (Status s = validate_model_metadata(metadata.as_object()); !s.ok()) {
          return respond_status(*ex, s);
        }
        if (up->kind && !d.runtimes->find(*up->kind)) {
          std::string known;
          for (const auto& k : d.runtimes->kinds()) known += (known.empty() ? "" : ", ") + k;
          return ex->respond_problem(
              status::unprocessable_entity,
              "kind: unknown runtime " + *up->kind + " (known: " + known + ")",
              {{"kind", "unknown runtime; known: " + known}});
        }
        std::string metadata_text = json::serialize(metadata);
        const Principal* caller = ex->principal();
        int64_t user_id = caller ? caller->user_id : 0;
        off_io(d, ex, [d, name, up = *up, metadata_text, user_id](net::Exchange& ex) mutable {
          if (!up.kind) {
            auto existing = d.registry->get(name);
            if (existing.ok()) {
              up.kind = existing->kind;
            } else if (existing.status().code() == ErrorCode::kNotFound) {
              return ex.respond_problem(status::unprocessable_entity,
                                        "kind: required for a new model",
                                        {{"kind", "required for a new model"}});
            } else {
              return respond_status(ex, existing.status());
            }
          }
          if (Status s = d.check_loadable(*up.kind, up.bytes, metadata_text); !s.ok()) {
            if (s.code() == ErrorCode::kInvalidArgument) {
              return ex.respond_problem(
                  status::unprocessable_entity,
                  "file: the " + *up.kind + " runtime cannot load it: " + s.message(),
                  {{"file", s.message()}});
            }
            return respond_status(ex, s);
          }
          auto v = d.registry->add_version(name, up.kind, up.bytes, metadata_text, user_id);
          if (!v.ok()) return respond_status(ex, v.status());
          if (d.on_changed) d.on_changed(*v);
          auto res = net::make_json(status::created, version_json(*v));
          res.set(field::location,
                  "/api/v1/models/" + v->model + "/versions/" + std::to_string(v->version));
          ex.respond(std::move(res));
        });
      });

  // ---- list
  router.add(verb::get, "/api/v1/models",
             {.operation_id = "listModels",
              .summary = "Models with their kind, latest version and aliases, by name",
              .tag = "models",
              .action = "models.read",
              .params = page_params(),
              .responses = {{200, "A page of models", list_schema(model_schema())}}},
             [d](const ExchangePtr& ex) {
               auto page = read_page(*ex);
               if (!page) return;
               off_io(d, ex, [d, page = *page](net::Exchange& ex) {
                 auto models = d.registry->list(page.limit + 1, page.cursor);
                 if (!models.ok()) return respond_status(ex, models.status());
                 json::array items;
                 json::value next = nullptr;
                 for (size_t i = 0; i < models->size(); ++i) {
                   if (i == static_cast<size_t>(page.limit)) {
                     next = json::value(encode_cursor((*models)[i - 1].id));
                     break;
                   }
                   items.push_back(model_json((*models)[i]));
                 }
                 ex.respond_json(status::ok, {{"items", std::move(items)}, {"next_cursor", next}});
               });
             });

  // ---- one model
  router.add(
      verb::get, "/api/v1/models/{name}",
      {.operation_id = "getModel",
       .summary = "A model with all its versions and the latest 100 alias moves",
       .tag = "models",
       .action = "models.read",
       .responses = {{200, "The model", model_schema()}, problem_response(404, "No such model")}},
      [d](const ExchangePtr& ex) {
        off_io(d, ex, [d](net::Exchange& ex) {
          auto m = d.registry->get(ex.param("name"));
          if (!m.ok()) return respond_status(ex, m.status());
          auto versions = d.registry->versions(*m);
          if (!versions.ok()) return respond_status(ex, versions.status());
          auto history = d.registry->alias_history(*m, 100);
          if (!history.ok()) return respond_status(ex, history.status());
          json::object out = model_json(*m);
          json::array vs, hs;
          for (const auto& v : *versions) vs.push_back(version_json(v));
          for (const auto& h : *history) {
            hs.push_back(
                {{"alias", h.alias},
                 {"from_version", h.from_version ? json::value(h.from_version) : json::value()},
                 {"to_version", h.to_version},
                 {"at", h.at},
                 {"by", user_ref(h.by)}});
          }
          out["versions"] = std::move(vs);
          out["alias_history"] = std::move(hs);
          ex.respond_json(status::ok, out);
        });
      });

  // ---- one version
  router.add(verb::get, "/api/v1/models/{name}/versions/{v}",
             {.operation_id = "getModelVersion",
              .summary = "One version; {v} is a number, latest, or an alias",
              .tag = "models",
              .action = "models.read",
              .responses = {{200, "The version", version_schema()},
                            problem_response(404, "No such model or version")}},
             [d](const ExchangePtr& ex) {
               off_io(d, ex, [d](net::Exchange& ex) {
                 auto v = d.registry->resolve(ex.param("name"), ex.param("v"));
                 if (!v.ok()) return respond_status(ex, v.status());
                 ex.respond_json(status::ok, version_json(*v));
               });
             });

  // ---- artifact
  router.add(
      verb::get, "/api/v1/models/{name}/versions/{v}/artifact",
      {.operation_id = "getModelArtifact",
       .summary = "The version's file; ETag is its sha256, Range and If-None-Match supported",
       .tag = "models",
       .action = "models.artifact",
       .params = {{"Range", "header", "bytes=first-last, bytes=first- or bytes=-suffix"},
                  {"If-None-Match", "header", "The ETag you have: 304 when unchanged"}},
       .responses = {{200, "The file", json::object{{"type", "string"}, {"format", "binary"}},
                      "application/octet-stream"},
                     {206, "Part of the file",
                      json::object{{"type", "string"}, {"format", "binary"}},
                      "application/octet-stream"},
                     {304, "Not modified"},
                     problem_response(404, "No such model or version"),
                     problem_response(416, "Range not satisfiable")}},
      [d](const ExchangePtr& ex) {
        off_io(d, ex, [d](net::Exchange& ex) {
          auto v = d.registry->resolve(ex.param("name"), ex.param("v"));
          if (!v.ok()) return respond_status(ex, v.status());
          const auto& req = ex.request();
          std::string etag = "\"" + v->sha256 + "\"";
          if (auto inm = req.find(field::if_none_match); inm != req.end()) {
            std::string_view have = inm->value();
            if (have == etag || have == "*" || have == v->sha256 ||
                have.find(etag) != std::string_view::npos) {
              net::HttpResponse res{status::not_modified, 11};
              res.set(field::etag, etag);
              return ex.respond(std::move(res));
            }
          }
          uint64_t size = static_cast<uint64_t>(v->size);
          ByteRange range{0, size};
          bool partial = false;
          if (auto r = req.find(field::range); r != req.end()) {
            auto parsed = parse_range(r->value(), size);
            if (!parsed.ok()) {
              auto res =
                  net::make_problem(status::range_not_satisfiable, "the range is outside the file");
              res.set(field::content_range, "bytes */" + std::to_string(size));
              return ex.respond(std::move(res));
            }
            if (*parsed) {
              range = **parsed;
              partial = true;
            }
          }
          // The bytes are streamed from this node's local copy, not read into memory.
          std::optional<net::FileBody> file;
          if (range.length > 0) {
            auto path = d.registry->artifacts().local_path(v->sha256);
            if (!path.ok()) return respond_status(ex, path.status());
            auto opened = net::open_file_body(path->string(), range.first, range.length);
            if (!opened.ok()) return respond_status(ex, unavailable(opened.status().message()));
            file = std::move(*opened);
          }
          net::HttpResponse res{partial ? status::partial_content : status::ok, 11};
          res.set(field::content_type, "application/octet-stream");
          res.set(field::etag, etag);
          res.set(field::accept_ranges, "bytes");
          res.set(field::cache_control, "private, max-age=31536000, immutable");
          if (partial) {
            res.set(field::content_range, "bytes " + std::to_string(range.first) + "-" +
                                              std::to_string(range.first + range.length - 1) + "/" +
                                              std::to_string(size));
          }
          if (!file) {
            res.prepare_payload();
            return ex.respond(std::move(res));
          }
          ex.respond_file(std::move(res), std::move(*file));
        });
      });

  // ---- alias
  router.add(
      verb::put, "/api/v1/models/{name}/aliases/{alias}",
      {.operation_id = "setModelAlias",
       .summary = "Point an alias at a version (the move is kept in the alias history)",
       .tag = "models",
       .action = "models.write",
       .request_schema = object_schema({{"version", "integer"}}, {"version"}),
       .responses = {{200, "The alias moved",
                      object_schema({{"alias", "string"},
                                     {"version", "integer"},
                                     {"previous_version", "integer"}})},
                     problem_response(404, "No such model or version"),
                     problem_response(422, "Bad alias or version")}},
      [d](const ExchangePtr& ex) {
        auto body = read_json_object(*ex);
        if (!body) return;
        Fields f(*body);
        auto version = f.optional_int("version");
        if (!version) f.add("version", "required: the version number");
        f.reject_unknown({"version"});
        if (!f.ok()) return f.respond(*ex);
        const Principal* caller = ex->principal();
        int64_t user_id = caller ? caller->user_id : 0;
        off_io(d, ex, [d, version = *version, user_id](net::Exchange& ex) {
          auto move = d.registry->set_alias(ex.param("name"), ex.param("alias"), version, user_id);
          if (!move.ok()) return respond_status(ex, move.status());
          if (d.on_changed) {
            registry::ModelVersion changed;
            changed.model = std::string(ex.param("name"));
            changed.version = move->to_version;
            d.on_changed(changed);
          }
          ex.respond_json(status::ok,
                          {{"alias", move->alias},
                           {"version", move->to_version},
                           {"previous_version",
                            move->from_version ? json::value(move->from_version) : json::value()},
                           {"at", move->at}});
        });
      });

  // ---- delete a version
  router.add(verb::delete_, "/api/v1/models/{name}/versions/{v}",
             {.operation_id = "deleteModelVersion",
              .summary = "Delete a version; refused (409) while an alias or a device uses it",
              .tag = "models",
              .action = "models.write",
              .responses = {{204, "Deleted"},
                            problem_response(404, "No such model or version"),
                            problem_response(409, "In use")}},
             [d](const ExchangePtr& ex) {
               off_io(d, ex, [d](net::Exchange& ex) {
                 auto v = d.registry->resolve(ex.param("name"), ex.param("v"));
                 if (!v.ok()) return respond_status(ex, v.status());
                 if (Status s = d.registry->delete_version(v->model, v->version); !s.ok()) {
                   return respond_status(ex, s);
                 }
                 if (d.on_changed) d.on_changed(*v);
                 ex.respond(net::HttpResponse{status::no_content, 11});
               });
             });
}

}  // namespace vigil::api
