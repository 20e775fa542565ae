// Authentication and the permission check for every route: reads the credentials (Bearer,
// then the vigil_session cookie, then Basic), sets the principal, and answers 401 (none or
// invalid), 403 (expired token, disabled account, or a role the permission table does not
// allow for the route's action). Public routes pass, with the principal set when valid
// credentials came along.
#pragma once

#include "auth/token_service.h"
#include "auth/user_store.h"
#include "net/middleware.h"
#include "net/router.h"

namespace vigil::api {

class AuthMiddleware final : public net::Middleware {
 public:
  AuthMiddleware(auth::UserStore& users, auth::TokenService& tokens, auth::BasicAuthCache& basic);
  void before(net::Exchange& ex) override;

  // Resolves the request's credentials (exposed for the WebSocket and tests).
  auth::Resolved authenticate(const net::HttpRequest& req);

 private:
  auth::Resolved basic(std::string_view encoded);
  auth::UserStore& users_;
  auth::TokenService& tokens_;
  auth::BasicAuthCache& basic_;
};

// Reads one cookie's value from a Cookie header; empty when absent.
std::string_view cookie_value(std::string_view header, std::string_view name);

}  // namespace vigil::api
