// Outside input: a multipart/form-data upload body (POST /api/v1/models/{name}/versions). The
// first line of the input is the Content-Type header, the rest the body.
#include <cstdint>
#include <string_view>

#include "api/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t eol = in.find('\n');
  std::string_view content_type = in.substr(0, eol);
  std::string_view body = eol == std::string_view::npos ? std::string_view() : in.substr(eol + 1);
  auto parts = vigil::api::parse_multipart(content_type, body);
  if (parts.ok()) {
    for (const auto& p : *parts) {
      // Every part's bytes lie inside the body.
      if (p.body.data() < body.data() || p.body.data() + p.body.size() > body.data() + body.size())
        __builtin_trap();
    }
  }
  return 0;
}
