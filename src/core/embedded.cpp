#include "core/embedded.h"

namespace vigil::embedded {

const File* find(std::span<const File> files, std::string_view path) {
  for (const auto& f : files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

}  // namespace vigil::embedded
