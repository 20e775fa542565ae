// The KServe v2 inference protocol's JSON, as Vigil speaks it: parsing an infer request into a
// dense float matrix, and writing infer responses. Kept apart from the routes so the parser
// can be unit-tested and fuzzed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_text.h"
#include "core/status.h"
#include "runtime/runtime.h"

namespace vigil::api {

struct V2InferRequest {
  std::string id;  // echoed; empty when the client sent none
  size_t rows = 0;
  size_t cols = 0;
  std::vector<float> data;  // rows × cols, row-major; null → NaN (missing)
  bool explain = false;     // parameters.explain
};

// Parses {"id"?, "inputs":[{"name","shape":[rows,cols],"datatype","data":[…]}], "parameters"?}.
// One input tensor; datatype FP32, FP64, INT32 or INT64; data flat or nested row-major.
// `max_rows` bounds rows. With `json_header_length` (the request's
// Inference-Header-Content-Length: the binary tensor extension), the JSON is that many bytes
// and the input's values follow as raw little-endian numbers, sized by its
// parameters.binary_data_size, instead of "data".
// Errors: kMalformed (400: not JSON, not an object), kInvalidArgument naming the member
// ("inputs[0].shape") for valid JSON with invalid values (422).
Expected<V2InferRequest> parse_v2_infer(std::string_view body, size_t max_rows,
                                        std::optional<size_t> json_header_length = {});

// {"model_name","model_version","id","outputs":[{"name":"predict",…},{"name":"contributions",…}?]}
std::string v2_infer_response(std::string_view model_name, int64_t version, std::string_view id,
                              const runtime::Tensor& predict, const runtime::Tensor* contributions);

}  // namespace vigil::api
