#include "runtime/runtime.h"

#include <algorithm>

#include "runtime/blank/blank_runtime.h"
#include "runtime/linear/linear_runtime.h"
#include "runtime/xgboost/xgboost_runtime.h"

namespace vigil::runtime {

void RuntimeRegistry::add(std::unique_ptr<Runtime> runtime) {
  // Kinds are unique: a second runtime of the same kind replaces the first.
  for (auto& existing : runtimes_) {
    if (existing->kind() == runtime->kind()) {
      existing = std::move(runtime);
      return;
    }
  }
  runtimes_.push_back(std::move(runtime));
}

const Runtime* RuntimeRegistry::find(std::string_view kind) const {
  for (const auto& r : runtimes_) {
    if (r->kind() == kind) return r.get();
  }
  return nullptr;
}

std::vector<std::string> RuntimeRegistry::kinds() const {
  std::vector<std::string> out;
  out.reserve(runtimes_.size());
  for (const auto& r : runtimes_) out.emplace_back(r->kind());
  std::sort(out.begin(), out.end());
  return out;
}

std::unique_ptr<RuntimeRegistry> default_runtimes() {
  auto registry = std::make_unique<RuntimeRegistry>();
  registry->add(std::make_unique<XgboostRuntime>());
  registry->add(std::make_unique<LinearRuntime>());
  registry->add(std::make_unique<BlankRuntime>());
  return registry;
}

}  // namespace vigil::runtime
