#include "net/file_response.h"

#include <algorithm>
#include <cstdint>

#include "core/strings.h"

namespace vigil::net {
namespace {

using http::field;

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// A byte position; one too large for 64 bits is past the end of any file (UINT64_MAX).
std::optional<uint64_t> byte_position(std::string_view s) {
  if (!all_digits(s)) return std::nullopt;
  return parse_int<uint64_t>(s).value_or(UINT64_MAX);
}

std::string content_range(const ByteRange& r, uint64_t size) {
  return "bytes " + std::to_string(r.first) + "-" + std::to_string(r.first + r.length - 1) + "/" +
         std::to_string(size);
}

}  // namespace

Expected<std::optional<ByteRange>> parse_range(std::string_view header, uint64_t size) {
  using Result = std::optional<ByteRange>;
  if (!header.starts_with("bytes=")) return Result();
  std::string_view spec = header.substr(6);
  size_t dash = spec.find('-');
  if (spec.find(',') != std::string_view::npos || dash == std::string_view::npos) return Result();
  std::string_view left = spec.substr(0, dash), right = spec.substr(dash + 1);
  if (left.empty()) {  // the last n bytes
    auto n = byte_position(right);
    if (!n) return Result();
    if (*n == 0 || size == 0) return failed_precondition("unsatisfiable range");
    uint64_t length = std::min(*n, size);
    return Result(ByteRange{size - length, length});
  }
  auto first = byte_position(left);
  if (!first) return Result();
  if (*first >= size) return failed_precondition("unsatisfiable range");
  if (right.empty()) return Result(ByteRange{*first, size - *first});
  auto last = byte_position(right);
  if (!last || *last < *first) return Result();
  uint64_t end = std::min(*last, size - 1);
  return Result(ByteRange{*first, end - *first + 1});
}

bool if_range_allows(std::string_view if_range, std::string_view etag) {
  if_range = trim(if_range);
  return !if_range.starts_with("W/") && if_range == etag;  // strong comparison only
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  if (trim(if_none_match) == "*") return true;
  while (!if_none_match.empty()) {
    size_t comma = if_none_match.find(',');
    std::string_view tag = trim(if_none_match.substr(0, comma));
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

void respond_immutable_file(Exchange& ex, const ImmutableFile& file) {
  const auto& req = ex.request();
  if (auto inm = req.find(field::if_none_match); inm != req.end()) {
    if (etag_matches(inm->value(), file.etag)) {
      HttpResponse res{http::status::not_modified, 11};
      res.set(field::etag, file.etag);
      return ex.respond(std::move(res));
    }
  }
  ByteRange range{0, file.size};
  bool partial = false;
  auto if_range = req.find(field::if_range);
  bool range_applies = if_range == req.end() || if_range_allows(if_range->value(), file.etag);
  if (auto r = req.find(field::range); r != req.end() && range_applies) {
    auto parsed = parse_range(r->value(), file.size);
    if (!parsed.ok()) {
      auto res = make_problem(http::status::range_not_satisfiable, "the range is outside the file");
      res.set(field::content_range, "bytes */" + std::to_string(file.size));
      return ex.respond(std::move(res));
    }
    if (*parsed) {
      range = **parsed;
      partial = true;
    }
  }
  HttpResponse res{partial ? http::status::partial_content : http::status::ok, 11};
  res.set(field::content_type, file.content_type);
  res.set(field::etag, file.etag);
  res.set(field::accept_ranges, "bytes");
  res.set(field::cache_control, file.cache_control);
  if (partial) res.set(field::content_range, content_range(range, file.size));
  if (range.length == 0) {
    res.prepare_payload();
    return ex.respond(std::move(res));
  }
  auto path = file.local_path();
  if (!path.ok()) {
    if (path.status().code() == ErrorCode::kNotFound) {
      return ex.respond_problem(http::status::not_found, path.status().detail());
    }
    return ex.respond_problem(http::status::service_unavailable,
                              "the file cannot be read now; retry");
  }
  auto opened = open_file_body(*path, range.first, range.length);
  if (!opened.ok()) {
    return ex.respond_problem(http::status::service_unavailable,
                              "the file cannot be read now; retry");
  }
  ex.respond_file(std::move(res), std::move(*opened));
}

}  // namespace vigil::net
