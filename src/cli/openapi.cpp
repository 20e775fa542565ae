#include <boost/json/serialize.hpp>

#include <cstdio>

#include "api/openapi.h"
#include "app/app.h"
#include "cli/common.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.0.0"
#endif

namespace vigil::cli {

int print_openapi(const Config& config) {
  auto app = app::App::create(config);
  if (!app.ok()) {
    std::fprintf(stderr, "vigil: %s\n", app.status().to_string().c_str());
    return 1;
  }
  std::string doc = boost::json::serialize(api::build_openapi((*app)->router(), VIGIL_VERSION));
  std::fwrite(doc.data(), 1, doc.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

}  // namespace vigil::cli
