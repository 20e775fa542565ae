// Identity endpoints: /api/v1/auth/* (register, login, logout, me), /api/v1/users (admin user
// management; a user reads and changes their own account), and /api/v1/audit.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include <memory>

#include "audit/audit_log.h"
#include "auth/login_limiter.h"
#include "auth/token_service.h"
#include "auth/user_store.h"
#include "net/router.h"

namespace vigil::api {

struct IdentityDeps {
  auth::UserStore* users = nullptr;
  auth::TokenService* tokens = nullptr;
  auth::BasicAuthCache* basic = nullptr;
  auth::LoginLimiter* limiter = nullptr;
  store::Database* db = nullptr;
  // Password hashing runs here, off the I/O threads.
  boost::asio::thread_pool* blocking = nullptr;
  bool open_registration = true;
  bool secure_cookie = false;  // set under TLS
};

void add_identity_routes(net::Router& router, IdentityDeps deps);
void add_audit_routes(net::Router& router, store::Database& db);

// The user's public representation (no password hash).
boost::json::object user_json(const auth::User& u);

}  // namespace vigil::api
