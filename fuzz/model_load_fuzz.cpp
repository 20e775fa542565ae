// Outside input: an uploaded model file, loaded by the runtimes we wrote (linear, blank), then
// used once. The xgboost runtime is not fuzzed in process: libxgboost is a third-party parser
// that may crash on hostile bytes, which is why uploads are loaded in a child process first
// (runtime/isolated_check.h) and a crash there is a rejected file, not a bug here.
#include <boost/json/object.hpp>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "runtime/blank/blank_runtime.h"
#include "runtime/linear/linear_runtime.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  static const vigil::runtime::LinearRuntime linear;
  static const vigil::runtime::BlankRuntime blank;
  boost::json::object metadata;
  for (const vigil::runtime::Runtime* runtime :
       {static_cast<const vigil::runtime::Runtime*>(&linear),
        static_cast<const vigil::runtime::Runtime*>(&blank)}) {
    auto model = runtime->load(bytes, metadata);
    if (!model.ok()) continue;
    const size_t columns = (*model)->num_features() == 0 ? 3 : (*model)->num_features();
    std::vector<float> rows(2 * columns, 1.5f);
    rows[0] = std::numeric_limits<float>::quiet_NaN();
    (void)(*model)->predict(rows, 2);
    (void)(*model)->explain(rows, 2);
    (void)(*model)->predict(rows, 3);  // wrong size
  }
  return 0;
}
