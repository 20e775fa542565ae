#include "api/json_body.h"

#include <sodium.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/json_text.h"
#include "core/strings.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;

namespace {
// "type/subtype" of a Content-Type header, without its parameters.
std::string_view media_type(std::string_view header) {
  return trim(header.substr(0, header.find(';')));
}
}  // namespace

bool media_type_is(std::string_view header, std::string_view type) {
  return iequals(media_type(header), type);
}

bool is_json_type(std::string_view header) {
  std::string_view base = media_type(header);
  return iequals(base, "application/json") ||
         (base.size() > 5 && iequals(base.substr(base.size() - 5), "+json"));
}

std::optional<json::object> read_json_object(net::Exchange& ex, bool allow_form) {
  const auto& req = ex.request();
  std::string_view type(req[net::http::field::content_type].data(),
                        req[net::http::field::content_type].size());
  if (allow_form && media_type_is(type, "application/x-www-form-urlencoded")) {
    auto pairs = net::decode_query(std::string_view(req.body().data(), req.body().size()));
    if (!pairs.ok()) {
      respond_status(ex, malformed("", "malformed form: " + pairs.status().message()));
      return std::nullopt;
    }
    json::object obj;
    for (auto& [key, value] : *pairs) {
      if (!obj.contains(key)) obj[key] = value;  // the first of a repeated field counts
    }
    return obj;
  }
  if (!is_json_type(type)) {
    ex.respond_problem(status::unsupported_media_type,
                       allow_form ? "send application/json or application/x-www-form-urlencoded"
                                  : "send application/json");
    return std::nullopt;
  }
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 64;
  json::value v = parse_json(req.body(), ec, opts);
  if (ec) {
    ex.respond_problem(status::bad_request, "malformed JSON: " + ec.message());
    return std::nullopt;
  }
  if (!v.is_object()) {
    ex.respond_problem(status::bad_request, "the body must be a JSON object");
    return std::nullopt;
  }
  return std::move(v.as_object());
}

std::string Fields::required_string(const char* name) {
  auto it = obj_.find(name);
  if (it == obj_.end() || it->value().is_null()) {
    add(name, "is required");
    return {};
  }
  if (!it->value().is_string()) {
    add(name, "must be a string");
    return {};
  }
  return std::string(it->value().as_string());
}

std::optional<std::string> Fields::optional_string(const char* name) {
  auto it = obj_.find(name);
  if (it == obj_.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_string()) {
    add(name, "must be a string");
    return std::nullopt;
  }
  return std::string(it->value().as_string());
}

std::optional<std::optional<std::string>> Fields::nullable_string(const char* name) {
  auto it = obj_.find(name);
  if (it == obj_.end()) return std::nullopt;
  if (it->value().is_null()) return std::optional<std::string>();
  auto value = optional_string(name);
  if (!value) return std::nullopt;  // not a string: an error was added
  return std::optional<std::optional<std::string>>(std::in_place, std::move(*value));
}

std::optional<bool> Fields::optional_bool(const char* name) {
  auto it = obj_.find(name);
  if (it == obj_.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_bool()) {
    add(name, "must be true or false");
    return std::nullopt;
  }
  return it->value().as_bool();
}

std::optional<int64_t> Fields::optional_int(const char* name) {
  auto it = obj_.find(name);
  if (it == obj_.end() || it->value().is_null()) return std::nullopt;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64() && it->value().as_uint64() <= INT64_MAX) {
    return static_cast<int64_t>(it->value().as_uint64());
  }
  add(name, "must be an integer");
  return std::nullopt;
}

std::optional<std::map<std::string, std::string>> Fields::optional_string_map(const char* name) {
  auto it = obj_.find(name);
  if (it == obj_.end() || it->value().is_null()) return std::nullopt;
  std::map<std::string, std::string> out;
  const auto* obj = it->value().if_object();
  bool all_strings = obj != nullptr;
  if (obj) {
    for (const auto& member : *obj) {
      if (!member.value().is_string()) all_strings = false;
      if (all_strings) out.emplace(member.key(), member.value().as_string());
    }
  }
  if (!all_strings) {
    add(name, "must be an object of strings");
    return std::nullopt;
  }
  return out;
}

void Fields::reject_unknown(std::initializer_list<const char*> known) {
  for (const auto& kv : obj_) {
    bool found = false;
    for (const char* k : known) found = found || kv.key() == k;
    if (!found) add(std::string(kv.key()), "unknown field");
  }
}

void Fields::add(std::string field, std::string message) {
  errors_.push_back({std::move(field), std::move(message)});
}

void Fields::respond(net::Exchange& ex) const {
  std::string detail = "invalid values:";
  for (const auto& e : errors_) detail += " " + e.field + " " + e.message + ";";
  detail.pop_back();
  ex.respond_problem(status::unprocessable_entity, detail, errors_);
}

std::string encode_cursor(int64_t id) {
  std::string raw = "c" + std::to_string(id);
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

namespace {

// A cursor from encode_cursor(): "c<id>" in URL-safe base64.
std::optional<int64_t> decode_cursor(std::string_view cursor) {
  if (cursor.size() > 64) return std::nullopt;
  std::string raw(cursor.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), cursor.data(),
                        cursor.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      len < 2 || raw[0] != 'c') {
    return std::nullopt;
  }
  return parse_int<int64_t>(std::string_view(raw.data() + 1, len - 1));
}

}  // namespace

std::optional<Page> read_page(net::Exchange& ex) {
  Page page;
  if (auto limit = ex.query("limit")) {
    auto v = parse_int<int>(*limit, 1, 1000);
    if (!v) {
      respond_status(ex, invalid_field("limit", "must be an integer from 1 to 1000"));
      return std::nullopt;
    }
    page.limit = *v;
  }
  if (auto cursor = ex.query("cursor"); cursor && !cursor->empty()) {
    page.cursor = decode_cursor(*cursor);
    if (!page.cursor) {
      respond_status(ex, invalid_field("cursor", "is not one this server gave out"));
      return std::nullopt;
    }
  }
  return page;
}

void respond_page(net::Exchange& ex, json::array items, std::optional<int64_t> next_after) {
  json::value next = next_after ? json::value(encode_cursor(*next_after)) : json::value(nullptr);
  ex.respond_json(status::ok, {{"items", std::move(items)}, {"next_cursor", std::move(next)}});
}

void respond_created(net::Exchange& ex, const std::string& location, const json::value& body) {
  auto res = net::make_json(status::created, body);
  res.set(net::http::field::location, location);
  ex.respond(std::move(res));
}

void respond_status(net::Exchange& ex, const Status& s) {
  // The field an error is about, in the problem's "errors": an invalid value, or a taken one (a
  // username).
  std::vector<net::FieldError> errors;
  if (!s.field().empty()) errors.push_back({s.field(), s.message()});
  switch (s.code()) {
    case ErrorCode::kOk: return;
    case ErrorCode::kMalformed:
    case ErrorCode::kInvalidArgument:
      return ex.respond_problem(
          s.code() == ErrorCode::kMalformed ? status::bad_request : status::unprocessable_entity,
          s.detail(), errors);
    case ErrorCode::kNotFound: return ex.respond_problem(status::not_found, s.detail());
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict: return ex.respond_problem(status::conflict, s.detail(), errors);
    case ErrorCode::kUnauthenticated: return ex.respond_problem(status::unauthorized, s.detail());
    case ErrorCode::kPermissionDenied: return ex.respond_problem(status::forbidden, s.detail());
    case ErrorCode::kResourceExhausted:
      return ex.respond_problem(status::too_many_requests, s.detail());
    case ErrorCode::kFailedPrecondition: return ex.respond_problem(status::conflict, s.detail());
    case ErrorCode::kUnavailable:
      return ex.respond_problem(status::service_unavailable, "the store is unavailable; retry");
    case ErrorCode::kInternal:
      return ex.respond_problem(status::internal_server_error, "internal error");
  }
}

}  // namespace vigil::api
