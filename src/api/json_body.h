// Reading request bodies: JSON (or a form, where a route accepts one) into an object, with the
// contract's errors — 415 wrong content type, 400 malformed, 422 invalid values naming each
// field. Functions that answer the exchange return nullopt/false and the handler just returns.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "net/http.h"

namespace vigil::api {

// Whether a Content-Type header names `type` (parameters and ASCII case aside), or any JSON type
// (application/json, application/…+json).
bool media_type_is(std::string_view header, std::string_view type);
bool is_json_type(std::string_view header);

// Parses the body as a JSON object (Content-Type application/json, or any +json type). With
// `allow_form`, application/x-www-form-urlencoded fields become string members.
std::optional<boost::json::object> read_json_object(net::Exchange& ex, bool allow_form = false);

// Collects field errors while reading members of a JSON object.
class Fields {
 public:
  explicit Fields(const boost::json::object& obj) : obj_(obj) {}
  // Required / optional string members; a wrong type is an error naming the field.
  std::string required_string(const char* name);
  std::optional<std::string> optional_string(const char* name);
  // A string member that null clears: nullopt when absent, a nullopt inside when null.
  std::optional<std::optional<std::string>> nullable_string(const char* name);
  std::optional<bool> optional_bool(const char* name);
  std::optional<int64_t> optional_int(const char* name);
  // An object whose members are all strings (labels).
  std::optional<std::map<std::string, std::string>> optional_string_map(const char* name);
  // Members not in `known` are errors ("unknown field").
  void reject_unknown(std::initializer_list<const char*> known);
  void add(std::string field, std::string message);
  bool ok() const { return errors_.empty(); }
  // Answers 422 with every error; returns false so handlers can `return fields.respond(ex)`.
  void respond(net::Exchange& ex) const;

 private:
  const boost::json::object& obj_;
  std::vector<net::FieldError> errors_;
};

// Pagination: ?limit= (default 50, 1..1000) and an opaque ?cursor=. Answers 422 on bad values.
struct Page {
  int limit = 50;
  std::optional<int64_t> cursor;
};
std::optional<Page> read_page(net::Exchange& ex);
std::string encode_cursor(int64_t id);

// {"items":[…],"next_cursor":cursor of next_after, or null}
void respond_page(net::Exchange& ex, boost::json::array items, std::optional<int64_t> next_after);
// 201 with Location and the created resource.
void respond_created(net::Exchange& ex, const std::string& location,
                     const boost::json::value& body);

// Maps a service status to the contract's problem response.
void respond_status(net::Exchange& ex, const Status& status);

}  // namespace vigil::api
