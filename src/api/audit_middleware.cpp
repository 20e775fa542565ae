#include "api/audit_middleware.h"

#include "core/ids.h"

namespace vigil::api {

void AuditMiddleware::after(const net::Exchange& ex, net::HttpResponse& res) {
  auto elapsed = ex.finished() - ex.started();
  audit::AuditRecord r;
  r.at = system_time_of(ex.started());  // no clock read per request (core/ids.h)
  r.request_id = ex.request_id();
  if (const Principal* p = ex.principal()) {
    r.user_id = p->user_id;
    r.user_email = p->email;
  }
  auto method = ex.request().method_string();
  r.method = method.empty() ? "-" : std::string(method);
  r.path = ex.path().empty() ? "-" : std::string(ex.path().substr(0, 2048));
  r.status = static_cast<int>(res.result_int());
  r.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  r.bytes_in = static_cast<int64_t>(ex.bytes_in());
  r.bytes_out = static_cast<int64_t>(net::Exchange::body_bytes(res));
  r.ip = ex.remote_ip();
  writer_.submit(std::move(r));
}

}  // namespace vigil::api
