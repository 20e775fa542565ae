#include "api/artifacts.h"

#include <boost/json.hpp>

#include "api/handler.h"
#include "api/json_body.h"
#include "api/model_json.h"
#include "api/schemas.h"
#include "net/file_response.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::verb;

namespace {

class ArtifactHandlers {
 public:
  explicit ArtifactHandlers(ArtifactDeps d) : d_(d) {}

  // The bytes are streamed from this node's local copy, not read into memory.
  void download(const ExchangePtr& ex) const {
    off_io(*d_.blocking, ex, [registry = d_.registry](net::Exchange& ex) {
      auto v = registry->resolve(ex.param("name"), ex.param("v"));
      if (!v.ok()) return respond_status(ex, v.status());
      if (!check_model_access(ex, v->access, v->model)) return;
      net::ImmutableFile file{.etag = "\"" + v->sha256 + "\"",
                              .size = static_cast<uint64_t>(v->size),
                              .local_path = [registry, sha = v->sha256]() -> Expected<std::string> {
                                auto path = registry->artifacts().local_path(sha);
                                if (!path.ok()) return path.status();
                                return path->string();
                              }};
      net::respond_immutable_file(ex, file);
    });
  }

 private:
  ArtifactDeps d_;
};

net::RouteSpec download_spec() {
  json::value binary = json::object{{"type", "string"}, {"format", "binary"}};
  return {.operation_id = "getModelArtifact",
          .summary = "The version's file; ETag is its sha256, Range and If-None-Match supported",
          .tag = "models",
          .action = "models.artifact",
          .params = {{"Range", "header", "bytes=first-last, bytes=first- or bytes=-suffix"},
                     {"If-None-Match", "header", "The ETag you have: 304 when unchanged"}},
          .responses = {{200, "The file", binary, "application/octet-stream"},
                        {206, "Part of the file", binary, "application/octet-stream"},
                        {304, "Not modified"},
                        problem_response(404, "No such model or version"),
                        problem_response(416, "Range not satisfiable")}};
}

}  // namespace

void add_artifact_routes(net::Router& router, ArtifactDeps deps) {
  auto h = std::make_shared<const ArtifactHandlers>(deps);
  router.add(verb::get, "/api/v1/models/{name}/versions/{v}/artifact", download_spec(),
             bind(h, &ArtifactHandlers::download));
}

}  // namespace vigil::api
