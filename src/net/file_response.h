// Answering GET for an immutable file (a model artifact): a strong ETag with If-None-Match
// (304), single byte ranges (206, 416) and the bytes streamed from the file rather than read
// into memory (RFC 9110 §13-14).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/http.h"

namespace vigil::net {

struct ByteRange {
  uint64_t first = 0;
  uint64_t length = 0;
};

// A Range header against a file of `size` bytes: "bytes=a-b", "bytes=a-" or "bytes=-n".
// nullopt: serve the whole file (no single satisfiable-looking range: several ranges, another
// unit, a malformed value — RFC 9110 lets a server ignore those); kFailedPrecondition: the
// range cannot be satisfied (416).
Expected<std::optional<ByteRange>> parse_range(std::string_view header, uint64_t size);

// Whether Range applies under an If-Range header: only when it names exactly `etag` (a strong
// match). A date never matches (no Last-Modified is sent), so the whole file is served.
bool if_range_allows(std::string_view if_range, std::string_view etag);

// Whether an If-None-Match header matches `etag` (quoted, as sent in ETag): "*", or a list
// member equal to it under the weak comparison (a W/ prefix is ignored).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

struct ImmutableFile {
  std::string etag;  // quoted: "\"<sha256>\""
  uint64_t size = 0;
  std::string content_type = "application/octet-stream";
  std::string cache_control = "private, max-age=31536000, immutable";
  // Where the bytes are, asked only when some must be sent. Blocking.
  std::function<Expected<std::string>()> local_path;
};

// Answers the exchange's request for `file`: 304 when If-None-Match matches, 416 for an
// unsatisfiable Range, 206 for a satisfiable one (unless an If-Range does not match), else 200.
// Blocking (it may open the file): call it off the I/O threads. A file that cannot be opened is
// 503.
void respond_immutable_file(Exchange& ex, const ImmutableFile& file);

}  // namespace vigil::net
