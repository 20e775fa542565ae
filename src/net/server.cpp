#include "net/server.h"

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <thread>

#include "core/io_thread.h"
#include "core/log_throttle.h"
#include "core/thread_name.h"
#include "net/server_state.h"

namespace vigil::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// The io_context this thread runs, on a Server's I/O threads.
thread_local asio::io_context* this_thread_context = nullptr;
}  // namespace

bool defer_on_io_thread(std::function<void()> fn) {
  if (this_thread_context == nullptr) return false;
  // From inside its own loop, post() appends to the queue after the ready handlers (the
  // io_context runs one thread), so fn runs once they have.
  asio::post(*this_thread_context, std::move(fn));
  return true;
}

size_t effective_max_connections(size_t configured, uint64_t fd_limit, size_t fds_open) {
  if (fd_limit == 0) return configured;
  uint64_t taken = uint64_t{fds_open} + kFdHeadroom;
  uint64_t room = fd_limit > taken ? fd_limit - taken : 1;
  return static_cast<size_t>(std::min<uint64_t>(configured, room));
}

namespace {

// RLIMIT_NOFILE's soft value; 0 when unlimited or unknown.
uint64_t descriptor_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
  return rl.rlim_cur;
}

size_t open_descriptors() {
  std::error_code ec;
  size_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return n;
}

int open_reserve() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, const Router& router, std::vector<Middleware*> middleware,
       MetricsRegistry& metrics)
      : state_(std::make_shared<ServerState>(std::move(options), router, std::move(middleware),
                                             metrics)) {
    // One io_context per I/O thread: a connection lives on one thread for its whole life, so
    // its handlers need no strand and the schedulers share no lock.
    int n = state_->options.io_threads > 0 ? state_->options.io_threads
                                           : static_cast<int>(std::thread::hardware_concurrency());
    if (n < 1) n = 1;
    for (int i = 0; i < n; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      // Handlers may answer from other threads while no I/O is pending: keep run() going.
      work_.push_back(asio::make_work_guard(*contexts_.back()));
    }
    acceptor_.emplace(*contexts_[0]);
    backoff_.emplace(*contexts_[0]);
  }
  ~Impl() {
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
  }

  Status start() {
    const auto& o = state_->options;
    if (!o.tls_cert_file.empty() || !o.tls_key_file.empty()) {
      if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
        return invalid_argument("TLS needs both server.tls_cert and server.tls_key");
      }
      state_->ssl.emplace(asio::ssl::context::tls_server);
      auto& ctx = *state_->ssl;
      ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1);
      boost::system::error_code ec;
      ctx.use_certificate_chain_file(o.tls_cert_file, ec);
      if (ec)
        return invalid_argument("cannot load TLS certificate " + o.tls_cert_file + ": " +
                                ec.message());
      ctx.use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
      if (ec)
        return invalid_argument("cannot load TLS key " + o.tls_key_file + ": " + ec.message());
    }
    boost::system::error_code ec;
    auto address = asio::ip::make_address(o.host, ec);
    if (ec) return invalid_argument("server.host: not an IP address: " + o.host);
    tcp::endpoint endpoint(address, o.port);
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return unavailable("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " +
                         ec.message());
    }
    port_ = acceptor_->local_endpoint().port();
    limit_connections();
    reserve_fd_ = open_reserve();
    accept();
    for (size_t i = 0; i < contexts_.size(); ++i) {
      threads_.emplace_back([c = contexts_[i].get(), i] {
        set_thread_name("vigil-io-" + std::to_string(i));
        mark_io_thread();
        this_thread_context = c;
        c->run();
        this_thread_context = nullptr;
      });
    }
    running_ = true;
    return {};
  }

  void stop() {
    if (!running_) return;
    running_ = false;
    state_->stopping.store(true);
    asio::post(*contexts_[0], [this] {
      boost::system::error_code ec;
      acceptor_->close(ec);
      backoff_->cancel();
    });
    for (auto& s : state_->live_sessions()) s->shutdown();
    // Wait for in-flight work to drain, bounded by the grace period.
    auto deadline = std::chrono::steady_clock::now() + state_->options.shutdown_grace;
    while (state_->open_connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      for (auto& s : state_->live_sessions()) s->shutdown();
    }
    if (state_->open_connections.load() > 0) {
      spdlog::warn("shutdown grace period over; cutting {} connections",
                   state_->open_connections.load());
    }
    for (auto& w : work_) w.reset();
    for (auto& ctx : contexts_) ctx->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    // Sessions still queued in the stopped io_context are destroyed with it.
  }

  uint16_t port() const { return port_; }
  bool tls() const { return state_->ssl.has_value(); }

 private:
  // The effective max_connections, from the descriptor limit now.
  void limit_connections() {
    const size_t configured = state_->options.max_connections;
    fd_limit_ = descriptor_limit();
    state_->max_connections = effective_max_connections(configured, fd_limit_, open_descriptors());
    state_->max_connections_gauge.set(static_cast<int64_t>(state_->max_connections));
    state_->fd_limit_gauge.set(static_cast<int64_t>(fd_limit_));
    if (state_->max_connections < configured) {
      spdlog::info(
          "max_connections {} lowered to {}: the descriptor limit is {} (raise it with ulimit -n "
          "or LimitNOFILE=)",
          configured, state_->max_connections, fd_limit_);
    }
  }

  void accept() {
    auto& ctx = *contexts_[next_context_++ % contexts_.size()];
    acceptor_->async_accept(ctx, [this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
      if (!ec) {
        admit(std::move(socket));
        return accept();
      }
      if (ec == asio::error::connection_aborted) return accept();  // the client gave up first
      if (ec == asio::error::no_descriptors) {
        out_of_descriptors();
      } else {
        state_->accept_other_errors.inc();
        if (auto n = other_log_.hit(std::chrono::steady_clock::now())) {
          spdlog::warn("accept: {} ({} time(s) since the last report)", ec.message(), *n);
        }
      }
      back_off();
    });
  }

  void admit(tcp::socket socket) {
    size_t open = state_->open_connections.fetch_add(1) + 1;
    if (open > state_->max_connections || state_->stopping.load()) {
      state_->open_connections.fetch_sub(1);
      state_->rejected_connections.inc();
      boost::system::error_code ignored;
      socket.close(ignored);
      return;
    }
    start_http_session(std::move(socket), state_);
  }

  // Not accepting again at once: the error would repeat and the loop spin.
  void back_off() {
    backoff_->expires_after(kAcceptBackoff);
    backoff_->async_wait([this](boost::system::error_code ec) {
      if (ec || !acceptor_->is_open()) return;
      accept();
    });
  }

  void out_of_descriptors() {
    state_->accept_out_of_fds.inc();
    if (auto n = fd_log_.hit(std::chrono::steady_clock::now())) {
      spdlog::warn(
          "accept: out of file descriptors ({} time(s) since the last report; the limit is {}); "
          "waiting connections are answered 503 and closed until some close",
          *n, fd_limit_);
    }
    shed_waiting();
  }

  // The reserve descriptor, given back, lets one waiting connection be accepted, answered 503
  // and closed; then it is taken again. Up to a backlog's worth per round.
  void shed_waiting() {
    static constexpr char k503[] =
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n";
    for (int i = 0; i < 128; ++i) {
      if (reserve_fd_ >= 0) ::close(std::exchange(reserve_fd_, -1));
      int fd = ::accept4(acceptor_->native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) break;  // none waiting, or the descriptor went elsewhere
      (void)::send(fd, k503, sizeof(k503) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      state_->connections_shed.inc();
      reserve_fd_ = open_reserve();
      if (reserve_fd_ < 0) return;
    }
    if (reserve_fd_ < 0) reserve_fd_ = open_reserve();
  }

  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::shared_ptr<ServerState> state_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<asio::steady_timer> backoff_;
  int reserve_fd_ = -1;  // a descriptor held back for shed_waiting()
  uint64_t fd_limit_ = 0;
  LogThrottle fd_log_{std::chrono::seconds(10)};
  LogThrottle other_log_{std::chrono::seconds(10)};
  size_t next_context_ = 0;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  bool running_ = false;
};

Server::Server(ServerOptions options, const Router& router, std::vector<Middleware*> middleware,
               MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, std::move(middleware), metrics)) {}

Server::~Server() { stop(); }
Status Server::start() { return impl_->start(); }
uint16_t Server::port() const { return impl_->port(); }
bool Server::tls() const { return impl_->tls(); }
void Server::stop() { impl_->stop(); }

}  // namespace vigil::net
