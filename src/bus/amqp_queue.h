// AmqpQueue: Queue on RabbitMQ through rabbitmq-c (AMQP 0-9-1).
//
// Topology, declared by every connection (idempotent; the same arguments each time):
//   <name>       durable classic queue; rejected messages dead-letter to <name>.dead
//   <name>.dead  durable queue of dead-lettered (poison) messages, kept for an operator
// Messages are persistent (delivery mode 2) and published on the default exchange with
// publisher confirms; consumers use manual acknowledgements and basic.qos(prefetch).
//
// Connections: `publishers` for publishing (each guarded by a mutex; a batch is sent, then its
// confirms are awaited together, so several publishers keep several batches in flight) and one
// per Consumer. A broken connection is dropped and opened again on
// the next call, no sooner than its back-off allows (100 ms doubling to `max_backoff`);
// meanwhile calls answer kUnavailable at once, and ready() is false.
//
// Heartbeats (`heartbeat_s`) are exchanged whenever a connection is used; a consumer that runs a
// task longer than twice the heartbeat without calling next() is closed by the broker and its
// messages go to others (delivered again: at least once).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "bus/queue.h"

namespace vigil::bus {

struct AmqpOptions {
  std::string url;  // amqp://user:password@host:port/vhost (vhost "%2f" or empty: "/")
  std::string name = "vigil.tasks";
  int prefetch = 1;                         // unacknowledged messages per consumer
  int heartbeat_s = 30;                     // 0: none
  int publishers = 4;                       // publishing connections: batches in flight at once
  std::chrono::milliseconds timeout{5000};  // connect, handshake and each confirm wait
  std::chrono::milliseconds max_backoff{5000};
};

// Checks the options (kInvalidArgument naming "queue.url" and what is wrong). Does not connect:
// the broker may come up later (the first publish or ready() tries).
Expected<std::unique_ptr<Queue>> open_amqp_queue(const AmqpOptions& options);

// The URL with its password replaced by "***".
std::string redact_amqp_url(const std::string& url);

}  // namespace vigil::bus
