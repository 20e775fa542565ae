// Outside input: raw bytes of an HTTP request. Runs them through the same parser settings as
// the server (head and body limits), the router with parameter and tail routes, and the
// Exchange's query and parameter decoding.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>

#include "net/router.h"

namespace {

vigil::net::Router& router() {
  static vigil::net::Router* r = [] {
    auto* r = new vigil::net::Router();
    auto noop = [](const std::shared_ptr<vigil::net::Exchange>&) {};
    using vigil::net::http::verb;
    r->add(verb::get, "/healthz", {}, noop);
    r->add(verb::get, "/api/v1/models/{name}/versions/{v}", {}, noop);
    r->add(verb::post, "/api/v1/models/{name}/versions", {}, noop);
    r->add(verb::get, "/docs/{file*}", {}, noop);
    return r;
  }();
  return *r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = boost::beast::http;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!parser.is_header_done()) return 0;
  auto& req = parser.get();
  std::string_view target(req.target().data(), req.target().size());
  auto match = router().match(req.method(), target.substr(0, target.find('?')));
  vigil::net::Exchange ex(parser.release(), "127.0.0.1", "fuzz",
                          [](vigil::net::HttpResponse&&, std::optional<vigil::net::FileBody>&&) {});
  ex.set_route(match.route, std::move(match.params));
  (void)ex.query("limit");
  (void)ex.query("cursor");
  (void)ex.param("name");
  ex.respond(vigil::net::make_problem(http::status::ok, "fuzz"));
  return 0;
}
