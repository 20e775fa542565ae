// The composition root: reads the configuration, builds every object once (store, services,
// router, server), and starts and stops them in order. Included by nobody but cli/ and tests.
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "core/metrics.h"
#include "core/status.h"
#include "net/router.h"
#include "net/server.h"
#include "store/database.h"

namespace vigil::app {

struct FirstAdmin {
  bool created = false;
  std::string email;
  std::string generated_password;  // set only when it was generated (print it once)
};

class App {
 public:
  // Opens the store and checks its schema (migrating when database.migrate_on_start), creates
  // the first admin when there is none, and builds the router. Nothing listens yet.
  static Expected<std::unique_ptr<App>> create(const Config& config);
  ~App();

  // Routes may still be added (tests) until start().
  net::Router& router() { return *router_; }
  store::Database& database() { return *db_; }
  MetricsRegistry& metrics() { return metrics_; }
  const FirstAdmin& first_admin() const { return first_admin_; }

  Status start();
  uint16_t port() const;
  // Graceful; idempotent.
  void stop();

 private:
  explicit App(const Config& config);

  Config config_;
  MetricsRegistry metrics_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<net::Router> router_;
  std::vector<std::unique_ptr<net::Middleware>> middleware_;
  std::unique_ptr<net::Server> server_;
  FirstAdmin first_admin_;
};

// Opens the database named by the configuration (for CLI commands that need only the store).
Expected<std::unique_ptr<store::Database>> open_configured_database(const Config& config);

// Creates the first admin unless an admin exists. Safe to run concurrently.
Expected<FirstAdmin> ensure_first_admin(store::Database& db, const Config& config);

}  // namespace vigil::app
