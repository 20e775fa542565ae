// /api/v1/users: admins manage accounts; a user reads and changes their own. API.md "Identity".
// Rules (who may change what, the last active admin) live in auth::AccountService.
#pragma once

#include "core/blocking_pool.h"

#include "auth/account_service.h"
#include "net/router.h"

namespace vigil::api {

struct UserDeps {
  auth::AccountService* accounts = nullptr;
  BlockingPool* blocking = nullptr;
};

void add_user_routes(net::Router& router, UserDeps deps);

}  // namespace vigil::api
