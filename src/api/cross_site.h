// Refuses cross-site requests that could act with a browser's session cookie (CSRF), before
// authentication runs:
// - A write (any method but GET, HEAD, OPTIONS) or a WebSocket upgrade sent by a browser from
//   another site: `Sec-Fetch-Site` other than same-origin or none, or, when a browser sends no
//   Sec-Fetch-Site, an `Origin` whose host differs from `Host` (the rule of Go's
//   net/http.CrossOriginProtection). Requests with neither header (curl, the CLI, agents) pass.
// - A write to a non-public route authenticated by the vigil_session cookie (no Authorization
//   header) that lacks the header `Vigil-CSRF` (any value; the console sends it): a custom header
//   cannot be sent cross-site without a CORS preflight, which Vigil never grants.
// Both answer 403. The cookie itself is SameSite=Strict, so these are the second and third walls.
#pragma once

#include "net/middleware.h"

namespace vigil::api {

class CrossSiteMiddleware final : public net::Middleware {
 public:
  net::Flow before(const std::shared_ptr<net::Exchange>& ex) override;
};

// The header a cookie-authenticated write must carry.
inline constexpr std::string_view kCsrfHeader = "Vigil-CSRF";

}  // namespace vigil::api
