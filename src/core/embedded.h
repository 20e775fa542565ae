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

// Looks a path up in a table; nullptr when absent.
const File* find(std::span<const File> files, std::string_view path);

}  // namespace vigil::embedded
