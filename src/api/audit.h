// /api/v1/audit: every API call, newest first, with filters. API.md "Audit log".
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "net/router.h"
#include "store/database.h"

namespace vigil::api {

struct AuditDeps {
  store::Database* db = nullptr;
  boost::asio::thread_pool* blocking = nullptr;  // a query may scan 200 000 records
};

void add_audit_routes(net::Router& router, AuditDeps deps);

}  // namespace vigil::api
