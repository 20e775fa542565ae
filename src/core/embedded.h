// Files linked into the binary at build time (cmake/EmbedFiles.cmake): the /docs page assets and
// the web console. Each table is generated; an empty table means the assets were not built.
#pragma once

#include <span>
#include <string_view>

namespace vigil::embedded {

struct File {
  std::string_view path;  // URL path below the mount point: "swagger-ui.css"
  std::string_view content_type;
  std::string_view data;
};

// swagger-ui-dist files for /docs (empty when web/node_modules was missing at build time).
std::span<const File> docs();

// The web console's built files (web/dist), linked into the vigil executable only (src/cli);
// empty when web/dist was missing at build time. Other binaries get the console's files as a
// parameter (app::AppOptions) and must not call this.
std::span<const File> console();

// The seed baselines (src/telemetry/seeds), linked into vigil_telemetry.
std::span<const File> baseline_seeds();

// Looks a path up in a table; nullptr when absent.
const File* find(std::span<const File> files, std::string_view path);

}  // namespace vigil::embedded
