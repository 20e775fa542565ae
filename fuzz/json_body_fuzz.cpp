// Outside input: a JSON (or form) request body, read the way every endpoint reads it, and the
// same bytes as a query string (net::decode_query, which Exchange::query uses).
#include <cstdint>
#include <string>

#include "api/baselines.h"
#include "api/json_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = vigil::net::http;
  for (const char* type : {"application/json", "application/x-www-form-urlencoded"}) {
    vigil::net::HttpRequest req{http::verb::post, "/api/v1/users?limit=7&cursor=YzE", 11};
    req.set(http::field::content_type, type);
    req.body().assign(reinterpret_cast<const char*>(data), size);
    vigil::net::Exchange ex(
        std::move(req), "127.0.0.1", "fuzz",
        [](vigil::net::HttpResponse&&, std::optional<vigil::net::FileBody>&&) {});
    auto obj = vigil::api::read_json_object(ex, /*allow_form=*/true);
    if (obj) {
      vigil::api::Fields f(*obj);
      (void)f.required_string("email");
      (void)f.optional_string("name");
      (void)f.optional_bool("disabled");
      (void)f.optional_int("amount");
      f.reject_unknown({"email", "name"});
      if (!f.ok()) f.respond(ex);
      vigil::api::Fields baseline(*obj);  // POST /api/v1/baselines
      (void)vigil::api::read_baseline_request(*obj, baseline);
    }
    (void)vigil::api::read_page(ex);
    if (!ex.responded()) ex.respond_json(http::status::ok, {});
  }
  // A query decodes exactly when its escapes are valid, which the session checks per target.
  std::string_view query(reinterpret_cast<const char*>(data), size);
  if (vigil::net::decode_query(query).ok() != vigil::net::valid_target(query)) __builtin_trap();
  return 0;
}
