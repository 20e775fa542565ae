// Free TCP ports for tests that start servers.
#pragma once

namespace vigil::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it for a bind to port
// 0). Another process may take it before the caller binds, so callers retry on EADDRINUSE.
// Returns -1 when no socket could be bound.
int free_loopback_port();

}  // namespace vigil::testing
