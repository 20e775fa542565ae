// Outside input: a KServe v2 infer request body (POST /v2/models/{name}/infer), as JSON and,
// with the first byte as the Inference-Header-Content-Length, in the binary tensor extension.
#include <cstdint>
#include <string_view>

#include "api/kserve.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  for (bool binary : {false, true}) {
    if (binary && body.empty()) break;
    std::string_view in = binary ? body.substr(1) : body;
    std::optional<size_t> header;
    if (binary) header = static_cast<unsigned char>(body[0]);
    auto req = vigil::api::parse_v2_infer(in, 10000, header);
    if (req.ok()) {
      if (req->data.size() != req->rows * req->cols) __builtin_trap();
      vigil::runtime::Tensor t{{static_cast<int64_t>(req->rows)}, {}};
      t.values.assign(req->rows, 0.5f);
      (void)vigil::api::v2_infer_response("m", 1, req->id, t, nullptr);
    } else if (req.status().code() != vigil::ErrorCode::kMalformed &&
               req.status().code() != vigil::ErrorCode::kInvalidArgument) {
      __builtin_trap();
    }
  }
  return 0;
}
