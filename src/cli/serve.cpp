#include <malloc.h>
#include <sys/resource.h>

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

#include "app/app.h"
#include "cli/common.h"
#include "core/logging.h"

namespace vigil::cli {

namespace {

// Every connection is a descriptor: the soft limit (often 1024) goes up to the hard one, as far
// as it is allowed. The server fits max_connections to what remains (net/server.h).
void raise_descriptor_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rlim_t was = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &rl) == 0) {
    spdlog::debug("descriptor limit raised from {} to {}", was, rl.rlim_cur);
  }
}

}  // namespace

int run_serve(const Config& config) {
  raise_descriptor_limit();
  // Request-sized buffers (batches of rows, uploaded models) come and go all the time: keep glibc
  // from mapping and unmapping them (and page-faulting them in again) on every request.
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  sigset_t stop_signals = block_stop_signals();

  auto app = app::App::create(config, {.console = embedded::console()});
  if (!app.ok()) {
    spdlog::critical("cannot start: {}", app.status().to_string());
    return 1;
  }
  const auto& admin = (*app)->first_admin();
  if (admin.created && !admin.generated_password.empty()) {
    std::printf(
        "\n  First admin created: %s\n  Password (shown once; change it after signing in): %s\n\n",
        admin.email.c_str(), admin.generated_password.c_str());
    std::fflush(stdout);
  } else if (admin.created) {
    spdlog::info("first admin {} created with the configured password", admin.email);
  }
  if (Status s = (*app)->start(); !s.ok()) {
    spdlog::critical("cannot start: {}", s.to_string());
    return 1;
  }
  std::string scheme = config.get_string("server.tls_cert").empty() ? "http" : "https";
  spdlog::info("vigil serving on {}://{}:{} (database {})", scheme,
               config.get_string("server.host"), (*app)->port(), (*app)->database().describe());
  if (embedded::console().empty()) {
    spdlog::warn("the web console was not built into this binary: / says how (make build)");
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*app)->stop();
  spdlog::info("stopped cleanly");
  spdlog::shutdown();
  return 0;
}

}  // namespace vigil::cli
