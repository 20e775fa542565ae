// Hands every finished exchange to the audit writer (never blocks).
#pragma once

#include "audit/audit_log.h"
#include "net/middleware.h"

namespace vigil::api {

class AuditMiddleware final : public net::Middleware {
 public:
  explicit AuditMiddleware(audit::AuditWriter& writer) : writer_(writer) {}
  void after(const net::Exchange& ex, net::HttpResponse& res) override;

 private:
  audit::AuditWriter& writer_;
};

}  // namespace vigil::api
