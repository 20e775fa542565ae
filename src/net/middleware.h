// Middleware sees every request, also the ones the server rejects itself (malformed, too
// large, unknown route), so metrics and the audit log count everything.
#pragma once

#include <memory>

#include "net/http.h"

namespace vigil::net {

// What a middleware's before() did with the exchange.
enum class Flow {
  kNext,       // go on with the next middleware and the handler (unless it answered)
  kSuspended,  // it went to finish elsewhere and will answer or resume() the exchange
};

class Middleware {
 public:
  virtual ~Middleware() = default;
  // Before the handler, on the connection's I/O thread, and so never blocking: work that blocks
  // (a store round trip, Argon2) goes to a pool, the middleware returns kSuspended, and later,
  // from any thread, either answers the exchange or calls Exchange::resume() exactly once;
  // resume() runs the rest of the chain and the handler back on the connection's I/O thread.
  // Answering the exchange stops the chain and the handler is not called. Runs only for
  // requests that parsed.
  virtual Flow before(const std::shared_ptr<Exchange>& /*exchange*/) { return Flow::kNext; }
  // Once per exchange with the final response, just before it is written; may add headers.
  // Must not block (I/O threads).
  virtual void after(const Exchange& /*exchange*/, HttpResponse& /*response*/) {}
};

}  // namespace vigil::net
