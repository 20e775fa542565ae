// multipart/form-data bodies (RFC 7578), as far as uploads need them: parts with a name, an
// optional filename and content type, and their bytes (views into the body: keep the body
// alive). Errors are kInvalidArgument with a reason fit for a 400.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::api {

struct MultipartPart {
  std::string name;
  std::string filename;
  std::string content_type;
  std::string_view body;
};

inline constexpr size_t kMaxMultipartParts = 16;

// `content_type` is the request's Content-Type header (it carries the boundary).
Expected<std::vector<MultipartPart>> parse_multipart(std::string_view content_type,
                                                     std::string_view body);

}  // namespace vigil::api
