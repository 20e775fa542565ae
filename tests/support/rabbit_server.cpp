#include "support/rabbit_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "support/child_process.h"
#include "support/ports.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

constexpr const char* kDefaultScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";
constexpr const char* kEpmd = "/usr/bin/epmd";
constexpr auto kBootTimeout = std::chrono::seconds(60);

// True when 127.0.0.1:port answers the AMQP 0-9-1 protocol header with a frame (connection.start):
// the broker is up, not just its socket.
bool answers_amqp(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const char header[8] = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};
    pollfd p{fd, POLLIN, 0};
    unsigned char first = 0;
    ok = ::send(fd, header, sizeof header, MSG_NOSIGNAL) == sizeof header &&
         ::poll(&p, 1, 2000) == 1 && ::recv(fd, &first, 1, 0) == 1 && first == 1;
  }
  ::close(fd);
  return ok;
}

bool port_in_use(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool used = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return used;
}

}  // namespace

std::string find_rabbit_server() {
  std::string script = kDefaultScript;
  if (const char* env = std::getenv("VIGIL_TEST_RABBITMQ_SERVER"); env != nullptr && *env) {
    script = env;
  }
  if (::access(script.c_str(), X_OK) != 0 || ::access(kEpmd, X_OK) != 0) return {};
  return script;
}

void print_rabbit_missing_banner() { print_skip_banner("RabbitMQ", kRabbitMissingMessage); }

std::unique_ptr<RabbitServer> RabbitServer::start(std::string* error) {
  std::string ignored;
  std::string& why = error != nullptr ? *error : ignored;
  const std::string script = find_rabbit_server();
  if (script.empty()) {
    why = std::string(kRabbitMissingMessage);
    return nullptr;
  }
  std::error_code ec;
  std::string pattern = (fs::temp_directory_path(ec) / "vigil-mq-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    why = "mkdtemp(" + pattern + ") failed: " + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<RabbitServer> s(new RabbitServer());
  s->script_ = script;
  s->dir_ = pattern;
  s->amqp_port_ = free_loopback_port();
  s->dist_port_ = free_loopback_port();
  s->epmd_port_ = free_loopback_port();
  if (s->amqp_port_ == s->dist_port_ || s->dist_port_ == s->epmd_port_ ||
      s->amqp_port_ == s->epmd_port_) {
    why = "could not choose three free ports";
    return nullptr;
  }
  std::ofstream(s->dir_ + "/rabbitmq.conf")
      << "listeners.tcp.default = 127.0.0.1:" << s->amqp_port_ << "\n"
      << "log.file.level = warning\n"
      << "log.console = false\n";
  std::ofstream(s->dir_ + "/enabled_plugins") << "[].\n";
  std::ofstream(s->dir_ + "/advanced.config") << "[].\n";
  s->epmd_ = std::make_unique<ChildProcess>(
      kEpmd,
      std::vector<std::string>{"-port", std::to_string(s->epmd_port_), "-address", "127.0.0.1"},
      s->dir_, s->dir_ + "/epmd", std::vector<std::pair<std::string, std::string>>{}, SIGKILL);
  if (!s->epmd_->started()) {
    why = "cannot start epmd";
    return nullptr;
  }
  const auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (!port_in_use(s->epmd_port_)) {
    if (!s->epmd_->running() || steady_clock::now() > deadline) {
      why = "epmd did not listen:\n" + s->epmd_->err();
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!s->boot(&why)) return nullptr;
  return s;
}

bool RabbitServer::boot(std::string* error) {
  const std::vector<std::pair<std::string, std::string>> env{
      {"HOME", dir_},  // the Erlang cookie
      {"RABBITMQ_NODENAME", "vigil" + std::to_string(amqp_port_) + "@localhost"},
      {"RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1"},
      {"RABBITMQ_NODE_PORT", std::to_string(amqp_port_)},
      {"RABBITMQ_DIST_PORT", std::to_string(dist_port_)},
      {"ERL_EPMD_PORT", std::to_string(epmd_port_)},
      {"ERL_EPMD_ADDRESS", "127.0.0.1"},
      {"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1}"},
      {"RABBITMQ_MNESIA_BASE", dir_ + "/mnesia"},
      {"RABBITMQ_LOG_BASE", dir_ + "/log"},
      {"RABBITMQ_CONFIG_FILE", dir_ + "/rabbitmq.conf"},
      {"RABBITMQ_ADVANCED_CONFIG_FILE", dir_ + "/advanced.config"},
      {"RABBITMQ_ENABLED_PLUGINS_FILE", dir_ + "/enabled_plugins"},
      {"RABBITMQ_CONF_ENV_FILE", dir_ + "/rabbitmq-env.conf"},
      {"RABBITMQ_PID_FILE", dir_ + "/rabbitmq.pid"},
      // Exec the Erlang VM in place of the script: the child is the broker, so signals (and
      // the parent-death signal) reach it directly.
      {"RUNNING_UNDER_SYSTEMD", "1"},
  };
  broker_ = std::make_unique<ChildProcess>(script_, std::vector<std::string>{}, dir_,
                                           dir_ + "/broker", env, SIGKILL);
  if (!broker_->started()) {
    *error = "cannot start " + script_;
    return false;
  }
  const auto deadline = steady_clock::now() + kBootTimeout;
  while (!answers_amqp(amqp_port_)) {
    if (!broker_->running()) {
      *error = "rabbitmq-server exited during startup:\n" + broker_->out() + broker_->err();
      return false;
    }
    if (steady_clock::now() > deadline) {
      *error = "rabbitmq-server did not answer within 60 s:\n" + broker_->out() + broker_->err() +
               file_tail(dir_ + "/log/vigil" + std::to_string(amqp_port_) + "@localhost.log");
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

RabbitServer::~RabbitServer() {
  if (broker_ && broker_->running()) stop();
  if (broker_) broker_->signal_group(SIGKILL);
  if (epmd_) epmd_->stop(std::chrono::seconds(2));
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string RabbitServer::url() const {
  return "amqp://guest:guest@127.0.0.1:" + std::to_string(amqp_port_) + "/";
}

bool RabbitServer::stop() {
  if (!broker_) return true;
  broker_->signal(SIGTERM);
  const bool exited = broker_->wait(std::chrono::seconds(30)).has_value();
  if (!exited) broker_->signal_group(SIGKILL);
  broker_->signal_group(SIGKILL);  // helpers it started (erl_child_setup, the disk monitor)
  broker_->wait(std::chrono::seconds(10));
  return exited;
}

void RabbitServer::kill() {
  if (!broker_) return;
  broker_->signal_group(SIGKILL);
  broker_->wait(std::chrono::seconds(10));
}

bool RabbitServer::restart(std::string* error) {
  std::string ignored;
  if (broker_ && broker_->running()) stop();
  return boot(error != nullptr ? error : &ignored);
}

bool RabbitServer::running() const { return broker_ && broker_->running(); }

RabbitServer* shared_rabbit_server(std::string* error) {
  static std::mutex mu;
  static bool tried = false;
  static std::string failure;
  static std::unique_ptr<RabbitServer> server;  // destroyed (broker stopped) at exit
  std::lock_guard lock(mu);
  if (!tried) {
    tried = true;
    server = RabbitServer::start(&failure);
  }
  if (server == nullptr && error != nullptr) *error = failure;
  return server.get();
}

}  // namespace vigil::testing
