// Authentication and the permission check for every route: reads the credentials (Bearer,
// then the vigil_session cookie, then Basic), sets the principal, and answers 401 (none or
// invalid), 403 (expired token, disabled account, or a role the permission table does not
// allow for the route's action), 429 (Basic credentials of an account or address with too many
// failed attempts: the same limits as sign-in), 503 (the store cannot be asked). Public routes
// pass, with the principal set when valid credentials came along.
//
// Credentials the caches know (a token seen in the last seconds, Basic credentials verified
// lately) are decided on the I/O thread; the rest (a store query, Argon2) go to the blocking
// pool and the exchange is resumed from there.
#pragma once

#include "core/blocking_pool.h"

#include "auth/account_service.h"
#include "auth/token_service.h"
#include "net/middleware.h"
#include "net/router.h"

namespace vigil::api {

class AuthMiddleware final : public net::Middleware {
 public:
  AuthMiddleware(auth::AccountService& accounts, auth::TokenService& tokens,
                 auth::BasicAuthCache& basic, BlockingPool& blocking);
  net::Flow before(const std::shared_ptr<net::Exchange>& ex) override;

  // Resolves the request's credentials, sent from `remote_ip`. Blocking (store, Argon2): not on
  // an I/O thread.
  auth::Resolved authenticate(const net::HttpRequest& req, const std::string& remote_ip);
  // The same, into `out`, when it can be decided without blocking; false when only
  // authenticate() can.
  bool authenticate_cached(const net::HttpRequest& req, auth::Resolved& out);

 private:
  // Sets the principal, or answers the exchange with the outcome's problem.
  static void admit(net::Exchange& ex, auth::Resolved&& r);
  auth::Resolved basic(const std::string& email, const std::string& password,
                       const std::string& remote_ip);
  auth::AccountService& accounts_;
  auth::TokenService& tokens_;
  auth::BasicAuthCache& basic_;
  BlockingPool& blocking_;
};

// Reads one cookie's value from a Cookie header; empty when absent.
std::string_view cookie_value(std::string_view header, std::string_view name);

}  // namespace vigil::api
