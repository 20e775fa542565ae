#include "bus/amqp_queue.h"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <spdlog/spdlog.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace vigil::bus {
namespace {

using Clock = std::chrono::steady_clock;
constexpr amqp_channel_t kChannel = 1;
constexpr std::chrono::milliseconds kFirstBackoff{100};

struct Endpoint {
  std::string host, user, password, vhost;
  int port = 5672;
};

Expected<Endpoint> parse_endpoint(const std::string& url) {
  if (url.rfind("amqps://", 0) == 0) {
    return invalid_field("queue.url",
                         "amqps:// (TLS) is not supported yet: use amqp:// on a private network "
                         "or through a TLS tunnel");
  }
  if (url.rfind("amqp://", 0) != 0) {
    return invalid_field("queue.url", "must be \"embedded\" or start with amqp://");
  }
  std::string buffer = url;  // amqp_parse_url writes into it
  amqp_connection_info info;
  amqp_default_connection_info(&info);
  if (int rc = amqp_parse_url(buffer.data(), &info); rc != AMQP_STATUS_OK) {
    return invalid_field("queue.url", std::string("cannot be read: ") + amqp_error_string2(rc));
  }
  Endpoint e{info.host, info.user, info.password, info.vhost, info.port};
  if (e.host.empty()) return invalid_field("queue.url", "names no host");
  if (e.vhost.empty()) e.vhost = "/";
  return e;
}

timeval to_timeval(std::chrono::microseconds d) {
  if (d.count() < 0) d = std::chrono::microseconds(0);
  return timeval{static_cast<time_t>(d.count() / 1'000'000),
                 static_cast<suseconds_t>(d.count() % 1'000'000)};
}

amqp_bytes_t bytes_of(const std::string& s) {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}

std::string text_of(amqp_bytes_t b) {
  return std::string(static_cast<const char*>(b.bytes), b.len);
}

// What went wrong in an RPC, in words.
std::string reply_text(const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL: return "";
    case AMQP_RESPONSE_NONE: return "the broker did not answer";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
        return "the broker closed the connection: " + std::to_string(m->reply_code) + " " +
               text_of(m->reply_text);
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        return "the broker closed the channel: " + std::to_string(m->reply_code) + " " +
               text_of(m->reply_text);
      }
      return "the broker answered with an unexpected method";
  }
  return "unknown error";
}

// One AMQP connection with channel 1 open and the topology declared. Not thread-safe. Keeps its
// own back-off: after a failure, open() is refused until the back-off has passed.
class Connection {
 public:
  Connection(const Endpoint& endpoint, const AmqpOptions& options)
      : endpoint_(endpoint), options_(options) {}
  ~Connection() { close(true); }

  bool is_open() const { return state_ != nullptr; }
  amqp_connection_state_t state() const { return state_; }
  // Incremented on every successful open (delivery tags and confirm numbers restart).
  uint64_t session() const { return session_; }

  // Opens when closed (no-op when open). kUnavailable while backing off or when the broker
  // cannot be reached; the text says why.
  Status open() {
    if (state_ != nullptr) return {};
    const auto now = Clock::now();
    if (now < next_attempt_) return unavailable("the queue is unreachable: " + last_error_);
    Status s = try_open();
    if (s.ok()) {
      backoff_ = kFirstBackoff;
      last_error_.clear();
      ++session_;
      return s;
    }
    close(false);
    last_error_ = s.message();
    next_attempt_ = Clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, std::max(options_.max_backoff, kFirstBackoff));
    return unavailable("the queue is unreachable: " + last_error_);
  }

  // Drops the connection after an error (the next open() backs off). `why` is logged once.
  void fail(const std::string& why) {
    if (state_ == nullptr) return;
    spdlog::warn("queue: connection to {} lost: {}", endpoint_.host, why);
    close(false);
    last_error_ = why;
    next_attempt_ = Clock::now() + backoff_;
  }

  void close(bool graceful) {
    if (state_ == nullptr) return;
    if (graceful) {
      amqp_channel_close(state_, kChannel, AMQP_REPLY_SUCCESS);
      amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(state_);
    state_ = nullptr;
  }

  const std::string& last_error() const { return last_error_; }

 private:
  Status try_open() {
    state_ = amqp_new_connection();
    if (state_ == nullptr) return unavailable("out of memory");
    amqp_socket_t* socket = amqp_tcp_socket_new(state_);
    if (socket == nullptr) return unavailable("cannot make a socket");
    timeval tv = to_timeval(options_.timeout);
    amqp_set_handshake_timeout(state_, &tv);
    amqp_set_rpc_timeout(state_, &tv);
    if (int rc = amqp_socket_open_noblock(socket, endpoint_.host.c_str(), endpoint_.port, &tv);
        rc != AMQP_STATUS_OK) {
      return unavailable(std::string("cannot connect to ") + endpoint_.host + ":" +
                         std::to_string(endpoint_.port) + ": " + amqp_error_string2(rc));
    }
    amqp_rpc_reply_t r =
        amqp_login(state_, endpoint_.vhost.c_str(), 0, 131072, options_.heartbeat_s,
                   AMQP_SASL_METHOD_PLAIN, endpoint_.user.c_str(), endpoint_.password.c_str());
    if (r.reply_type != AMQP_RESPONSE_NORMAL) return unavailable("login: " + reply_text(r));
    amqp_channel_open(state_, kChannel);
    if (r = amqp_get_rpc_reply(state_); r.reply_type != AMQP_RESPONSE_NORMAL) {
      return unavailable("channel: " + reply_text(r));
    }
    const std::string dead = options_.name + ".dead";
    amqp_queue_declare(state_, kChannel, bytes_of(dead), 0, 1, 0, 0, amqp_empty_table);
    if (r = amqp_get_rpc_reply(state_); r.reply_type != AMQP_RESPONSE_NORMAL) {
      return unavailable("declaring " + dead + ": " + reply_text(r));
    }
    amqp_table_entry_t entries[2];
    entries[0].key = amqp_cstring_bytes("x-dead-letter-exchange");
    entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[0].value.value.bytes = amqp_cstring_bytes("");
    entries[1].key = amqp_cstring_bytes("x-dead-letter-routing-key");
    entries[1].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[1].value.value.bytes = bytes_of(dead);
    amqp_table_t args{2, entries};
    amqp_queue_declare(state_, kChannel, bytes_of(options_.name), 0, 1, 0, 0, args);
    if (r = amqp_get_rpc_reply(state_); r.reply_type != AMQP_RESPONSE_NORMAL) {
      return unavailable("declaring " + options_.name + ": " + reply_text(r));
    }
    return {};
  }

  Endpoint endpoint_;
  AmqpOptions options_;
  amqp_connection_state_t state_ = nullptr;
  uint64_t session_ = 0;
  Clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_ = kFirstBackoff;
  std::string last_error_;
};

// What a frame that is not the one awaited means for the connection: empty when it may go on,
// else why it must be dropped.
std::string closing_reason(const amqp_frame_t& f) {
  if (f.frame_type != AMQP_FRAME_METHOD) return "";
  switch (f.payload.method.id) {
    case AMQP_CHANNEL_CLOSE_METHOD: {
      auto* m = static_cast<amqp_channel_close_t*>(f.payload.method.decoded);
      return "the broker closed the channel: " + std::to_string(m->reply_code) + " " +
             text_of(m->reply_text);
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      auto* m = static_cast<amqp_connection_close_t*>(f.payload.method.decoded);
      return "the broker closed the connection: " + std::to_string(m->reply_code) + " " +
             text_of(m->reply_text);
    }
    case AMQP_BASIC_CANCEL_METHOD:
      return "the broker cancelled the consumer (the queue was deleted?)";
    default: return "";
  }
}

class AmqpConsumer : public Consumer {
 public:
  AmqpConsumer(const Endpoint& endpoint, const AmqpOptions& options)
      : options_(options), conn_(endpoint, options) {}

  Expected<std::optional<Delivery>> next(std::chrono::milliseconds wait) override {
    if (!conn_.is_open()) {
      Status s = open();
      if (!s.ok()) {
        std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(100)));
        return s;
      }
    }
    amqp_connection_state_t st = conn_.state();
    amqp_maybe_release_buffers(st);
    amqp_envelope_t env;
    timeval tv = to_timeval(wait);
    amqp_rpc_reply_t r = amqp_consume_message(st, &env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
      Delivery d{env.delivery_tag, conn_.session(), env.redelivered != 0,
                 text_of(env.message.body)};
      amqp_destroy_envelope(&env);
      return std::optional<Delivery>(std::move(d));
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) {
      return std::optional<Delivery>{};
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
      // A frame other than a delivery: read it; a close or a cancel ends the connection.
      amqp_frame_t f;
      timeval zero = to_timeval(std::chrono::microseconds(0));
      if (int rc = amqp_simple_wait_frame_noblock(st, &f, &zero);
          rc != AMQP_STATUS_OK && rc != AMQP_STATUS_TIMEOUT) {
        conn_.fail(amqp_error_string2(rc));
        return unavailable(std::string("the queue connection broke: ") + amqp_error_string2(rc));
      } else if (rc == AMQP_STATUS_OK) {
        if (std::string why = closing_reason(f); !why.empty()) {
          conn_.fail(why);
          return unavailable(why);
        }
      }
      return std::optional<Delivery>{};
    }
    const std::string why = reply_text(r);
    conn_.fail(why);
    return unavailable("the queue connection broke: " + why);
  }

  Status ack(const Delivery& d) override {
    if (!conn_.is_open() || d.session != conn_.session()) return {};
    if (int rc = amqp_basic_ack(conn_.state(), kChannel, d.tag, 0); rc != AMQP_STATUS_OK) {
      conn_.fail(amqp_error_string2(rc));
      return unavailable(std::string("acknowledging: ") + amqp_error_string2(rc));
    }
    return {};
  }

  Status reject(const Delivery& d, bool requeue) override {
    if (!conn_.is_open() || d.session != conn_.session()) return {};
    if (int rc = amqp_basic_reject(conn_.state(), kChannel, d.tag, requeue ? 1 : 0);
        rc != AMQP_STATUS_OK) {
      conn_.fail(amqp_error_string2(rc));
      return unavailable(std::string("rejecting: ") + amqp_error_string2(rc));
    }
    return {};
  }

 private:
  Status open() {
    VIGIL_RETURN_IF_ERROR(conn_.open());
    amqp_connection_state_t st = conn_.state();
    amqp_basic_qos(st, kChannel, 0, static_cast<uint16_t>(options_.prefetch), 0);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(st);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
      amqp_basic_consume(st, kChannel, bytes_of(options_.name), amqp_empty_bytes, 0, 0, 0,
                         amqp_empty_table);
      r = amqp_get_rpc_reply(st);
    }
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
      const std::string why = "consuming: " + reply_text(r);
      conn_.fail(why);
      return unavailable(why);
    }
    return {};
  }

  AmqpOptions options_;
  Connection conn_;
};

// A publishing connection: its lock, and its confirm numbers (they restart with each session).
struct Publisher {
  Publisher(const Endpoint& endpoint, const AmqpOptions& options) : conn(endpoint, options) {}
  std::mutex mu;
  Connection conn;
  uint64_t published = 0;
};

class AmqpQueue : public Queue {
 public:
  AmqpQueue(Endpoint endpoint, AmqpOptions options)
      : endpoint_(std::move(endpoint)), options_(std::move(options)) {
    const int n = std::max(options_.publishers, 1);
    for (int i = 0; i < n; ++i) pubs_.push_back(std::make_unique<Publisher>(endpoint_, options_));
  }

  // On a publishing connection that is free (several publish at once: one batch's confirms
  // do not hold up the next), else on the next one in turn.
  Status publish(const std::vector<std::string>& bodies) override {
    if (bodies.empty()) return {};
    const size_t first = next_.fetch_add(1) % pubs_.size();
    std::unique_lock<std::mutex> lock;
    Publisher* pub = nullptr;
    for (size_t i = 0; i < pubs_.size() && pub == nullptr; ++i) {
      Publisher& candidate = *pubs_[(first + i) % pubs_.size()];
      std::unique_lock<std::mutex> attempt(candidate.mu, std::try_to_lock);
      if (attempt.owns_lock()) {
        lock = std::move(attempt);
        pub = &candidate;
      }
    }
    if (pub == nullptr) {
      pub = pubs_[first].get();
      lock = std::unique_lock<std::mutex>(pub->mu);
    }
    return publish_on(*pub, bodies);
  }

  Status publish_on(Publisher& pub, const std::vector<std::string>& bodies) {
    VIGIL_RETURN_IF_ERROR(open_publisher(pub));
    amqp_connection_state_t st = pub.conn.state();
    amqp_basic_properties_t props{};
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
    props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    props.content_type = amqp_cstring_bytes("text/plain");
    std::set<uint64_t> waiting;
    for (const std::string& body : bodies) {
      int rc = amqp_basic_publish(st, kChannel, amqp_empty_bytes, bytes_of(options_.name), 0, 0,
                                  &props, bytes_of(body));
      if (rc != AMQP_STATUS_OK) {
        return drop(pub, std::string("publishing: ") + amqp_error_string2(rc));
      }
      waiting.insert(++pub.published);
    }
    bool refused = false;
    const auto deadline = Clock::now() + options_.timeout;
    while (!waiting.empty()) {
      amqp_frame_t f;
      timeval tv = to_timeval(
          std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()));
      int rc = amqp_simple_wait_frame_noblock(st, &f, &tv);
      if (rc == AMQP_STATUS_TIMEOUT) {
        return drop(pub, "the broker did not confirm " + std::to_string(waiting.size()) +
                             " messages within " + std::to_string(options_.timeout.count()) +
                             " ms");
      }
      if (rc != AMQP_STATUS_OK)
        return drop(pub, std::string("awaiting confirms: ") + amqp_error_string2(rc));
      if (f.frame_type != AMQP_FRAME_METHOD) continue;
      uint64_t tag = 0;
      bool multiple = false;
      if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
        auto* m = static_cast<amqp_basic_ack_t*>(f.payload.method.decoded);
        tag = m->delivery_tag;
        multiple = m->multiple != 0;
      } else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
        auto* m = static_cast<amqp_basic_nack_t*>(f.payload.method.decoded);
        tag = m->delivery_tag;
        multiple = m->multiple != 0;
        refused = true;
      } else if (std::string why = closing_reason(f); !why.empty()) {
        return drop(pub, why);
      } else {
        continue;
      }
      if (multiple) {
        waiting.erase(waiting.begin(), waiting.upper_bound(tag));
      } else {
        waiting.erase(tag);
      }
    }
    if (refused) return unavailable("the broker refused some messages (nack)");
    return {};
  }

  std::unique_ptr<Consumer> consumer() override {
    return std::make_unique<AmqpConsumer>(endpoint_, options_);
  }

  // Whether the first publishing connection is up (opening it when it is not); every idle one
  // reads what the broker sent meanwhile (a close) and lets rabbitmq-c send a heartbeat.
  bool ready() override {
    bool up = false;
    for (size_t i = 0; i < pubs_.size(); ++i) {
      Publisher& pub = *pubs_[i];
      std::unique_lock<std::mutex> lock(pub.mu, std::defer_lock);
      if (i == 0) {
        lock.lock();
        if (!open_publisher(pub).ok()) return false;
      } else if (!lock.try_lock() || !pub.conn.is_open()) {
        continue;  // busy publishing (so alive), or not opened yet
      }
      const bool alive = service(pub);
      if (i == 0) up = alive;
    }
    return up;
  }

  Expected<Depth> depth() override {
    Publisher& pub = *pubs_[0];
    std::lock_guard lock(pub.mu);
    VIGIL_RETURN_IF_ERROR(open_publisher(pub));
    Depth d;
    for (const std::string& name : {options_.name, options_.name + ".dead"}) {
      // Passive: only asks (both queues exist: every connection declares them).
      auto* ok = amqp_queue_declare(pub.conn.state(), kChannel, bytes_of(name), 1, 0, 0, 0,
                                    amqp_empty_table);
      amqp_rpc_reply_t r = amqp_get_rpc_reply(pub.conn.state());
      if (ok == nullptr || r.reply_type != AMQP_RESPONSE_NORMAL) return drop(pub, reply_text(r));
      (name == options_.name ? d.waiting : d.dead) = static_cast<int64_t>(ok->message_count);
    }
    return d;
  }

  std::string describe() const override {
    return redact_amqp_url(options_.url) + " queue " + options_.name;
  }

 private:
  Status open_publisher(Publisher& pub) {
    if (pub.conn.is_open()) return {};
    VIGIL_RETURN_IF_ERROR(pub.conn.open());
    amqp_confirm_select(pub.conn.state(), kChannel);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(pub.conn.state());
    if (r.reply_type != AMQP_RESPONSE_NORMAL) return drop(pub, "confirm.select: " + reply_text(r));
    pub.published = 0;
    if (&pub == pubs_[0].get()) spdlog::info("queue: connected to {}", describe());
    return {};
  }

  // Reads what is waiting without blocking; false when the connection closed (dropped).
  static bool service(Publisher& pub) {
    amqp_frame_t f;
    timeval zero = to_timeval(std::chrono::microseconds(0));
    for (;;) {
      int rc = amqp_simple_wait_frame_noblock(pub.conn.state(), &f, &zero);
      if (rc == AMQP_STATUS_TIMEOUT) return true;
      if (rc != AMQP_STATUS_OK) {
        pub.conn.fail(amqp_error_string2(rc));
        return false;
      }
      if (std::string why = closing_reason(f); !why.empty()) {
        pub.conn.fail(why);
        return false;
      }
    }
  }

  static Status drop(Publisher& pub, const std::string& why) {
    pub.conn.fail(why);
    return unavailable("the queue is unreachable: " + why);
  }

  Endpoint endpoint_;
  AmqpOptions options_;
  std::vector<std::unique_ptr<Publisher>> pubs_;
  std::atomic<size_t> next_{0};
};

}  // namespace

Expected<std::unique_ptr<Queue>> open_amqp_queue(const AmqpOptions& options) {
  auto endpoint = parse_endpoint(options.url);
  if (!endpoint.ok()) return endpoint.status();
  if (options.name.empty() || options.name.size() > 200) {
    return invalid_field("queue.name", "from 1 to 200 characters");
  }
  if (options.prefetch < 1 || options.prefetch > 65535) {
    return invalid_field("queue.prefetch", "from 1 to 65535");
  }
  return std::unique_ptr<Queue>(std::make_unique<AmqpQueue>(std::move(*endpoint), options));
}

std::string redact_amqp_url(const std::string& url) {
  // scheme://user:password@host… → scheme://user:***@host…
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t at = url.find('@', scheme + 3);
  if (at == std::string::npos) return url;
  const size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

}  // namespace vigil::bus
