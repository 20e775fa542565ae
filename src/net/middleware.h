// Middleware sees every request, also the ones the server rejects itself (malformed, too
// large, unknown route), so metrics and the audit log count everything.
#pragma once

#include "net/http.h"

namespace vigil::net {

class Middleware {
 public:
  virtual ~Middleware() = default;
  // Before the handler, on an I/O thread. Answering the exchange here stops the chain and the
  // handler is not called. Runs only for requests that parsed.
  virtual void before(Exchange& /*exchange*/) {}
  // Once per exchange with the final response, just before it is written; may add headers.
  // Must not block (I/O threads).
  virtual void after(const Exchange& /*exchange*/, HttpResponse& /*response*/) {}
};

}  // namespace vigil::net
