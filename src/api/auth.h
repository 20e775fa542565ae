// /api/v1/auth/*: register, login (sets the session cookie), logout, me. API.md "Identity".
// Rules live in auth::AccountService; this file parses, calls it and answers.
#pragma once

#include <boost/json/object.hpp>
#include "core/blocking_pool.h"

#include "auth/account_service.h"
#include "auth/token_service.h"
#include "net/router.h"

namespace vigil::api {

struct AuthDeps {
  auth::AccountService* accounts = nullptr;
  auth::TokenService* tokens = nullptr;
  BlockingPool* blocking = nullptr;  // the service blocks (store, Argon2)
  bool secure_cookie = false;        // set under TLS
};

void add_auth_routes(net::Router& router, AuthDeps deps);

// A user's public representation (no password hash), shared with /api/v1/users.
boost::json::object user_json(const auth::User& u);
boost::json::value user_schema();
// `schema` (an object schema) with the account rules on its "email" and "password" properties,
// where it has them: a password of 8 to 1024 bytes of UTF-8 holding at least 8 Unicode code
// points (JSON Schema's minLength counts code points); emails compared ignoring case after
// Unicode NFC normalisation and case folding, stored as given.
boost::json::value with_account_rules(boost::json::value schema);

}  // namespace vigil::api
