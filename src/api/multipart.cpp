#include "api/multipart.h"

#include <algorithm>
#include <cctype>

#include "core/strings.h"

namespace vigil::api {
namespace {

// The value of `key` among `; key=value` / `; key="value"` parameters.
std::string param(std::string_view header_value, std::string_view key) {
  size_t pos = 0;
  while ((pos = header_value.find(';', pos)) != std::string_view::npos) {
    ++pos;
    std::string_view rest = trim(header_value.substr(pos));
    size_t eq = rest.find('=');
    if (eq == std::string_view::npos) continue;
    if (to_lower(trim(rest.substr(0, eq))) != key) continue;
    std::string_view v = trim(rest.substr(eq + 1));
    if (!v.empty() && v.front() == '"') {
      std::string out;
      for (size_t i = 1; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) {
          out += v[++i];
        } else if (v[i] == '"') {
          return out;
        } else {
          out += v[i];
        }
      }
      return out;  // unterminated: take what there is
    }
    return std::string(v.substr(0, v.find(';')));
  }
  return {};
}

}  // namespace

Expected<std::vector<MultipartPart>> parse_multipart(std::string_view content_type,
                                                     std::string_view body) {
  std::string boundary = param(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 200) {
    return invalid_argument("multipart body without a usable boundary");
  }
  const std::string delimiter = "--" + boundary;
  // The first delimiter may start the body or follow a preamble line.
  size_t pos = body.starts_with(delimiter) ? 0 : body.find("\r\n" + delimiter);
  if (pos == std::string_view::npos) return invalid_argument("multipart body without parts");
  if (pos != 0) pos += 2;
  std::vector<MultipartPart> parts;
  const std::string next_delimiter = "\r\n" + delimiter;
  while (true) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
    if (body.substr(pos, 2) != "\r\n") return invalid_argument("malformed multipart delimiter");
    pos += 2;
    size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos || head_end - pos > 8192) {
      return invalid_argument("malformed multipart part headers");
    }
    MultipartPart part;
    std::string_view head = body.substr(pos, head_end - pos);
    bool has_disposition = false;
    while (!head.empty()) {
      size_t eol = head.find("\r\n");
      std::string_view line = head.substr(0, eol);
      head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) return invalid_argument("malformed multipart header");
      std::string field = to_lower(trim(line.substr(0, colon)));
      std::string_view value = trim(line.substr(colon + 1));
      if (field == "content-disposition") {
        if (to_lower(value.substr(0, value.find(';'))) != "form-data") {
          return invalid_argument("multipart part is not form-data");
        }
        has_disposition = true;
        part.name = param(value, "name");
        part.filename = param(value, "filename");
      } else if (field == "content-type") {
        part.content_type = std::string(value);
      }
    }
    if (!has_disposition || part.name.empty()) {
      return invalid_argument("multipart part without a name");
    }
    size_t body_start = head_end + 4;
    size_t end = body.find(next_delimiter, body_start);
    if (end == std::string_view::npos) return invalid_argument("multipart body is truncated");
    part.body = body.substr(body_start, end - body_start);
    if (parts.size() == kMaxMultipartParts) return invalid_argument("too many multipart parts");
    parts.push_back(std::move(part));
    pos = end + 2;
  }
}

}  // namespace vigil::api
