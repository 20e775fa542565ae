#include "api/cross_site.h"

#include <boost/beast/websocket/rfc6455.hpp>

#include "api/auth_middleware.h"
#include "core/strings.h"
#include "net/router.h"

namespace vigil::api {
namespace http = net::http;

namespace {

std::string_view header(const net::HttpRequest& req, http::field f) {
  auto v = req[f];
  return {v.data(), v.size()};
}

std::string_view header(const net::HttpRequest& req, std::string_view name) {
  auto v = req[name];
  return {v.data(), v.size()};
}

// Whether a browser sent the request from another origin (the request's own is its Host).
bool cross_origin(const net::HttpRequest& req) {
  std::string_view site = header(req, "Sec-Fetch-Site");
  if (!site.empty()) return site != "same-origin" && site != "none";
  std::string_view origin = header(req, http::field::origin);
  if (origin.empty()) return false;  // not a browser, or a same-origin GET of an old one
  auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return true;  // "null" (sandboxed, file:)
  return !iequals(origin.substr(scheme_end + 3), header(req, http::field::host));
}

bool is_write(http::verb method) {
  return method != http::verb::get && method != http::verb::head && method != http::verb::options;
}

// Authenticated by the session cookie: the credentials are read Bearer/Basic first, then it.
bool cookie_authenticated(const net::HttpRequest& req) {
  return header(req, http::field::authorization).empty() &&
         !cookie_value(header(req, http::field::cookie), "vigil_session").empty();
}

}  // namespace

net::Flow CrossSiteMiddleware::before(const std::shared_ptr<net::Exchange>& ex) {
  const net::Route* route = ex->route();
  if (!route) return net::Flow::kNext;
  const net::HttpRequest& req = ex->request();
  bool write = is_write(req.method());
  if (!write && !boost::beast::websocket::is_upgrade(req)) return net::Flow::kNext;
  if (cross_origin(req)) {
    ex->respond_problem(http::status::forbidden,
                        "cross-site request refused: it came from another site's page");
  } else if (write && route->spec.action != "public" && cookie_authenticated(req) &&
             header(req, kCsrfHeader).empty()) {
    ex->respond_problem(http::status::forbidden,
                        "a write signed in with the session cookie needs the header " +
                            std::string(kCsrfHeader) + " (send a Bearer token instead, or add it)");
  }
  return net::Flow::kNext;
}

}  // namespace vigil::api
