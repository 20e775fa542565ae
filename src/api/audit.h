// /api/v1/audit: every API call, newest first, with filters. API.md "Audit log".
#pragma once

#include "core/blocking_pool.h"

#include "net/router.h"
#include "store/database.h"

namespace vigil::api {

struct AuditDeps {
  store::Database* db = nullptr;
  BlockingPool* blocking = nullptr;  // a query may scan 200 000 records
};

void add_audit_routes(net::Router& router, AuditDeps deps);

}  // namespace vigil::api
