#include "app/app.h"

#include <spdlog/spdlog.h>

#include <boost/asio/thread_pool.hpp>

#include "api/audit_middleware.h"
#include "api/auth_middleware.h"
#include "api/identity.h"
#include "api/ops.h"
#include "audit/audit_log.h"
#include "auth/login_limiter.h"
#include "auth/permissions.h"
#include "auth/token_service.h"
#include "auth/user_store.h"
#include "net/request_metrics.h"
#include "store/migrations.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.0.0"
#endif

namespace vigil::app {

Expected<std::unique_ptr<store::Database>> open_configured_database(const Config& config) {
  store::DatabaseOptions options;
  options.url = config.get_string("database.url");
  options.pool_size = static_cast<int>(config.get_int("database.pool_size"));
  return store::open_database(options);
}

App::App(const Config& config) : config_(config), router_(std::make_unique<net::Router>()) {}

App::~App() { stop(); }

Expected<std::unique_ptr<App>> App::create(const Config& config) {
  std::unique_ptr<App> app(new App(config));
  auto db = open_configured_database(config);
  if (!db.ok()) return db.status();
  app->db_ = std::move(*db);

  store::Migrator migrator(*app->db_);
  VIGIL_RETURN_IF_ERROR(migrator.check_not_newer());
  if (config.get_bool("database.migrate_on_start")) {
    auto ran = migrator.up();
    if (!ran.ok()) return ran.status();
    if (*ran > 0) spdlog::info("applied {} migration(s)", *ran);
  }
  if (Status current = migrator.check_current(); !current.ok()) {
    return failed_precondition(current.message() + " (run `vigil migrate up`)");
  }
  app->blocking_ = std::make_unique<boost::asio::thread_pool>(2);
  app->users_ = std::make_unique<auth::UserStore>(*app->db_, password_params(config));
  app->tokens_ = std::make_unique<auth::TokenService>(
      *app->db_, std::chrono::seconds(config.get_int("auth.token_ttl_s")),
      std::chrono::milliseconds(config.get_int("auth.token_cache_ms")));
  app->basic_ = std::make_unique<auth::BasicAuthCache>(
      std::chrono::seconds(config.get_int("auth.basic_cache_s")));
  app->limiter_ = std::make_unique<auth::LoginLimiter>(
      static_cast<int>(config.get_int("auth.login_max_failures_per_account")),
      static_cast<int>(config.get_int("auth.login_max_failures_per_ip")),
      std::chrono::seconds(config.get_int("auth.login_window_s")));
  if (config.get_bool("audit.enabled")) {
    audit::AuditOptions ao;
    ao.queue_capacity = static_cast<size_t>(config.get_int("audit.queue_capacity"));
    ao.batch_size = static_cast<size_t>(config.get_int("audit.batch_size"));
    ao.flush_interval = std::chrono::milliseconds(config.get_int("audit.flush_ms"));
    ao.access_log_file = config.get_string("audit.access_log");
    app->audit_ = std::make_unique<audit::AuditWriter>(*app->db_, ao, app->metrics_);
  }

  auto admin = ensure_first_admin(*app->users_, config);
  if (!admin.ok()) return admin.status();
  app->first_admin_ = *admin;

  store::Database* db_ptr = app->db_.get();
  api::OpsDeps ops;
  ops.metrics = &app->metrics_;
  ops.version = VIGIL_VERSION;
  ops.readiness.push_back({"database", [db_ptr] { return db_ptr->ping(); }});
  ops.readiness.push_back({"migrations", [db_ptr] {
                             store::Migrator m(*db_ptr);
                             return m.check_current();
                           }});
  api::add_ops_routes(*app->router_, std::move(ops));
  api::add_docs_routes(*app->router_, VIGIL_VERSION);
  api::IdentityDeps identity;
  identity.users = app->users_.get();
  identity.tokens = app->tokens_.get();
  identity.basic = app->basic_.get();
  identity.limiter = app->limiter_.get();
  identity.db = app->db_.get();
  identity.blocking = app->blocking_.get();
  identity.open_registration = config.get_bool("auth.open_registration");
  identity.secure_cookie = !config.get_string("server.tls_cert").empty();
  api::add_identity_routes(*app->router_, identity);
  api::add_audit_routes(*app->router_, *app->db_);
  return app;
}

Status App::start() {
  // Every route must declare an action the permission table knows: none can skip its check.
  for (const auto& r : router_->routes()) {
    if (!auth::find_action(r->spec.action)) {
      return internal_error("route " + std::string(net::http::to_string(r->method)) + " " +
                            r->pattern + " declares no known action ('" + r->spec.action + "')");
    }
  }
  // Request metrics are built from the final route table.
  middleware_.push_back(std::make_unique<net::RequestMetrics>(*router_, metrics_));
  if (audit_) {
    VIGIL_RETURN_IF_ERROR(audit_->start());
    middleware_.push_back(std::make_unique<api::AuditMiddleware>(*audit_));
  }
  middleware_.push_back(std::make_unique<api::AuthMiddleware>(*users_, *tokens_, *basic_));
  std::vector<net::Middleware*> chain;
  for (auto& m : middleware_) chain.push_back(m.get());

  net::ServerOptions o;
  o.host = config_.get_string("server.host");
  o.port = static_cast<uint16_t>(config_.get_int("server.port"));
  o.io_threads = static_cast<int>(config_.get_int("server.io_threads"));
  o.max_header_bytes = static_cast<size_t>(config_.get_int("server.max_header_bytes"));
  o.max_body_bytes = static_cast<size_t>(config_.get_int("server.max_body_bytes"));
  o.header_timeout = std::chrono::milliseconds(config_.get_int("server.header_timeout_ms"));
  o.body_timeout = std::chrono::milliseconds(config_.get_int("server.body_timeout_ms"));
  o.idle_timeout = std::chrono::milliseconds(config_.get_int("server.idle_timeout_ms"));
  o.ws_idle_timeout = std::chrono::milliseconds(config_.get_int("server.ws_idle_timeout_ms"));
  o.shutdown_grace = std::chrono::milliseconds(config_.get_int("server.shutdown_grace_ms"));
  o.max_connections = static_cast<size_t>(config_.get_int("server.max_connections"));
  o.tls_cert_file = config_.get_string("server.tls_cert");
  o.tls_key_file = config_.get_string("server.tls_key");
  server_ = std::make_unique<net::Server>(o, *router_, chain, metrics_);
  return server_->start();
}

uint16_t App::port() const { return server_ ? server_->port() : 0; }

void App::stop() {
  if (server_) server_->stop();
  if (blocking_) blocking_->join();
  if (audit_) audit_->stop();
}

void App::flush_audit() {
  if (audit_) audit_->flush();
}

}  // namespace vigil::app
