// Outside input: a KServe v2 infer request body (POST /v2/models/{name}/infer).
#include <cstdint>
#include <string_view>

#include "api/kserve.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  vigil::api::V2Error error;
  auto req = vigil::api::parse_v2_infer(body, 10000, error);
  if (req) {
    if (req->data.size() != req->rows * req->cols) __builtin_trap();
    vigil::runtime::Tensor t{{static_cast<int64_t>(req->rows)}, {}};
    t.values.assign(req->rows, 0.5f);
    (void)vigil::api::v2_infer_response("m", 1, req->id, t, nullptr);
  } else if (error.status != 400 && error.status != 422) {
    __builtin_trap();
  }
  return 0;
}
