// A throwaway RabbitMQ broker for tests: Debian's rabbitmq-server started in a fresh temporary
// directory (its Mnesia database, logs, Erlang cookie), with its own epmd, every listener on
// 127.0.0.1 (AMQP, Erlang distribution, epmd) on free ports, no plugins.
//
// Needs /usr/lib/rabbitmq/bin/rabbitmq-server and /usr/bin/epmd (or $VIGIL_TEST_RABBITMQ_SERVER
// naming the script); tests skip loudly when they are absent. Boot takes ~5–8 s, so a test
// process shares one broker (shared_rabbit_server()) and tests keep apart by queue names.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

namespace vigil::testing {

class ChildProcess;

inline constexpr std::string_view kRabbitMissingMessage =
    "RabbitMQ not found — install with scripts/install-deps (Debian's rabbitmq-server), or "
    "point VIGIL_TEST_RABBITMQ_SERVER at its rabbitmq-server script";

// The rabbitmq-server script to run, or "" when RabbitMQ (or epmd) is not installed.
std::string find_rabbit_server();
void print_rabbit_missing_banner();

class RabbitServer {
 public:
  // Starts a broker and blocks until it answers the AMQP handshake (at most ~60 s). nullptr
  // when it cannot; *error (optional) says why, with the log's tail.
  static std::unique_ptr<RabbitServer> start(std::string* error = nullptr);
  RabbitServer(const RabbitServer&) = delete;
  RabbitServer& operator=(const RabbitServer&) = delete;
  // Stops the broker and epmd, removes the directory.
  ~RabbitServer();

  // amqp://guest:guest@127.0.0.1:PORT/ (guest may connect from loopback).
  std::string url() const;
  int port() const { return amqp_port_; }

  // Stops the broker gracefully (SIGTERM: it syncs durable queues first), keeping its data and
  // ports. true when it exited within 30 s.
  bool stop();
  // Kills the broker at once (SIGKILL): what a power cut or OOM kill does.
  void kill();
  // Starts it again on the same data and ports; false (with *error) when it does not come up.
  bool restart(std::string* error = nullptr);
  bool running() const;

 private:
  RabbitServer() = default;
  bool boot(std::string* error);

  std::string script_;
  std::string dir_;
  int amqp_port_ = 0, dist_port_ = 0, epmd_port_ = 0;
  std::unique_ptr<ChildProcess> epmd_, broker_;
};

// The one broker of this test process: started on the first call, stopped at exit. nullptr
// when it cannot start (the reason in *error, the same on every call).
RabbitServer* shared_rabbit_server(std::string* error = nullptr);

}  // namespace vigil::testing

// In a test body or a fixture's SetUp(): declares `RabbitServer* var`, the shared broker. Skips
// the test, loudly, when RabbitMQ is not installed; fails it when it is but does not start.
#define VIGIL_RABBIT_SERVER_OR_SKIP(var)                                                  \
  ::vigil::testing::RabbitServer* var = nullptr;                                          \
  do {                                                                                    \
    if (::vigil::testing::find_rabbit_server().empty()) {                                 \
      ::vigil::testing::print_rabbit_missing_banner();                                    \
      GTEST_SKIP() << ::vigil::testing::kRabbitMissingMessage;                            \
    }                                                                                     \
    std::string vigil_mq_error_;                                                          \
    var = ::vigil::testing::shared_rabbit_server(&vigil_mq_error_);                       \
    ASSERT_NE(var, nullptr) << "RabbitMQ test server did not start: " << vigil_mq_error_; \
  } while (0)
