// The web console at `/`: its built files (web/dist, linked into the binary) and, for the
// console's own client-side routes (/models, /profile …), its index.html. Paths of the API and
// the operations endpoints (/api, /v2, /docs, /metrics, /healthz, /readyz, /openapi.json) never
// fall back to the console: they keep their 404. Every console response carries a
// Content-Security-Policy without inline scripts or styles, frame-ancestors 'none', nosniff.
// Hashed assets (assets/…) are cached for a year; index.html is revalidated every time.
#pragma once

#include <span>

#include "core/embedded.h"
#include "net/router.h"

namespace vigil::api {

struct ConsoleDeps {
  // The console's files by path ("index.html", "assets/index-4f2a.js"); empty: the console was
  // not built, and `/` answers 503 with a page saying how to build it.
  std::span<const embedded::File> files;
};

void add_console_routes(net::Router& router, ConsoleDeps deps);

// The Content-Security-Policy the console is served with.
extern const char* const kConsoleCsp;

}  // namespace vigil::api
