// What tests that start servers (PostgreSQL, RabbitMQ) share: free ports, the banner they print
// when a server is not installed, the tail of a server's log for a failure message.
#pragma once

#include <string>
#include <string_view>

namespace vigil::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it for a bind to port
// 0). Another process may take it before the caller binds, so callers retry on EADDRINUSE.
// Returns -1 when no socket could be bound.
int free_loopback_port();

// Prints "SKIPPING <suite> tests: <why>" in a banner to stderr, once per suite per process.
void print_skip_banner(std::string_view suite, std::string_view why);

// The last `max` bytes of a file ("..." before them when cut); "" when it cannot be read.
std::string file_tail(const std::string& path, size_t max = 2000);

}  // namespace vigil::testing
