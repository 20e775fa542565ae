// The built-in "blank" runtime: a model that always predicts 0. It exists so a server has a
// model to serve from the first start (model `blank` version 1) and for tests and benchmarks.
#pragma once

#include "runtime/runtime.h"

namespace vigil::runtime {

// Accepts any bytes (also empty). num_features() is the length of metadata "features" when
// given, else 0 (any number of columns). predict → zeros {rows}; explain → zeros
// {rows, columns + 1}.
class BlankRuntime final : public Runtime {
 public:
  static constexpr std::string_view kName = "blank";
  std::string_view kind() const override { return kName; }
  Expected<std::unique_ptr<LoadedModel>> load(std::string_view bytes,
                                              const boost::json::object& metadata) const override;
};

}  // namespace vigil::runtime
