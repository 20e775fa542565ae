// vigil model push FILE --name N [--kind K] [--metadata JSON|@file]; vigil model list.
// Against the configured store, like `vigil user`: the file is checked by its runtime in a
// child process first, exactly as an upload over HTTP is.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/app.h"
#include "cli/common.h"
#include "registry/artifact_store.h"
#include "registry/model_registry.h"
#include "registry/model_service.h"
#include "runtime/runtime.h"

namespace vigil::cli {
namespace {

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

void add_model_command(CLI::App& app, CommonOptions& common, int& exit_code) {
  auto* model = app.add_subcommand("model", "Manage models in the configured store");
  model->require_subcommand(1);
  static std::string file, name, kind, metadata;

  auto* push = model->add_subcommand(
      "push", "Store a model file as the next version of a model (checked by its runtime first)");
  push->add_option("FILE", file, "The model file")->required();
  push->add_option("--name", name, "Model name (1-64 of A-Z a-z 0-9 . _ -)")->required();
  push->add_option("--kind", kind, "Runtime: xgboost, linear, blank (required for a new model)");
  push->add_option("--metadata", metadata,
                   "Metadata JSON object, or @path to a file holding it (features, "
                   "price_per_row, ...)");
  add_common_options(*push, common);
  push->callback([&common, &exit_code] {
    Config config;
    auto db = open_store(common, exit_code, config);
    if (!db) return;
    auto bytes = slurp(file);
    if (!bytes) {
      std::fprintf(stderr, "vigil: cannot read %s\n", file.c_str());
      exit_code = 2;
      return;
    }
    std::string meta = metadata.empty() ? "{}" : metadata;
    if (meta.starts_with("@")) {
      auto text = slurp(meta.substr(1));
      if (!text) {
        std::fprintf(stderr, "vigil: cannot read %s\n", meta.substr(1).c_str());
        exit_code = 2;
        return;
      }
      meta = *text;
    }
    registry::ArtifactStore artifacts(*db, config.get_string("models.artifact_cache"));
    registry::ModelRegistry registry(*db, artifacts);
    auto runtimes = runtime::default_runtimes();
    registry::ModelService models(registry, app::model_checks(config, *runtimes));
    auto v = models.upload({.name = name,
                            .kind = kind.empty() ? std::nullopt : std::optional(kind),
                            .bytes = *bytes,
                            .metadata = meta});
    if (!v.ok()) {
      exit_code = fail(v.status());
      return;
    }
    std::printf("stored %s version %lld (%s, %lld bytes, sha256 %s)\n", v->model.c_str(),
                static_cast<long long>(v->version), v->kind.c_str(),
                static_cast<long long>(v->size), v->sha256.c_str());
  });

  auto* list = model->add_subcommand("list", "List models: name, kind, latest version, aliases");
  add_common_options(*list, common);
  list->callback([&common, &exit_code] {
    Config config;
    auto db = open_store(common, exit_code, config);
    if (!db) return;
    registry::ArtifactStore artifacts(*db, config.get_string("models.artifact_cache"));
    registry::ModelRegistry registry(*db, artifacts);
    std::printf("%-32s %-10s %-7s %s\n", "NAME", "KIND", "LATEST", "ALIASES");
    std::optional<int64_t> after;
    while (true) {
      auto page = registry.list(500, after);
      if (!page.ok()) {
        exit_code = fail(page.status());
        return;
      }
      for (const auto& m : *page) {
        std::string aliases;
        for (const auto& [alias, version] : m.aliases) {
          aliases += (aliases.empty() ? "" : " ") + alias + "=" + std::to_string(version);
        }
        std::printf("%-32s %-10s %-7s %s\n", m.name.c_str(), m.kind.c_str(),
                    m.latest_version ? std::to_string(m.latest_version).c_str() : "-",
                    aliases.c_str());
      }
      if (page->size() < 500) break;
      after = page->back().id;
    }
  });
}

}  // namespace vigil::cli
