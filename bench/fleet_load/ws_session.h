// A minimal WebSocket client session (RFC 6455) for holding many device sessions at once: a
// few hundred bytes each. It reads with a readiness wait into one buffer shared by every
// session of the thread and keeps only the bytes of an unfinished frame; it writes small
// frames straight to the socket and queues only what the socket did not take. Text frames
// only (masked, as a client must), no extensions. One thread per session (no strand).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace fleet_load {

class WsSession;

// Why a session did not open.
enum class WsFailure : uint8_t { kConnect, kRefused, kProtocol };

class WsHandler {
 public:
  virtual ~WsHandler() = default;
  // The server accepted the upgrade (101).
  virtual void on_open(WsSession& s) = 0;
  virtual void on_text(WsSession& s, std::string_view text) = 0;
  // It did not open: no TCP connection (kConnect), an answer other than 101 (kRefused, with
  // its status and Retry-After in seconds, -1 when none) or a malformed answer (kProtocol).
  virtual void on_fail(WsSession& s, WsFailure why, int status, int retry_after_s) = 0;
  // An open session ended: the server closed it or the connection broke.
  virtual void on_closed(WsSession& s, std::string_view why) = 0;
};

class WsSession {
 public:
  WsSession(boost::asio::io_context& ctx, WsHandler& handler, uint32_t index)
      : sock_(ctx), handler_(&handler), index_(index) {}
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  // Connects from `source` (port chosen at connect time) and asks for the upgrade of `path`
  // with the Bearer token. A session that failed or closed may connect again.
  void connect(const boost::asio::ip::tcp::endpoint& server,
               const boost::asio::ip::address_v4& source, std::string_view host_header,
               std::string_view path, std::string_view token);
  // Sends one text frame (masked). Ignored unless open.
  void send_text(std::string_view text);
  // Drops the connection without a close handshake; no callback follows.
  void abandon();

  uint32_t index() const { return index_; }
  bool is_open() const { return state_ == State::kOpen; }

 private:
  enum class State : uint8_t { kIdle, kConnecting, kHandshake, kOpen, kClosed };

  void wait_readable();
  void on_readable();
  // Consumes what `data` holds of the handshake answer or of frames; returns bytes used.
  size_t consume(std::string_view data);
  size_t consume_handshake(std::string_view data);
  size_t consume_frames(std::string_view data);
  void write_raw(std::string_view bytes);
  void wait_writable();
  void fail(WsFailure why, int status = 0, int retry_after_s = -1);
  void closed(std::string_view why);

  boost::asio::ip::tcp::socket sock_;
  WsHandler* handler_;
  std::string in_;   // bytes of an unfinished handshake answer or frame
  std::string msg_;  // the frames so far of a fragmented message (rare)
  std::string out_;  // bytes the socket has not taken yet
  uint32_t index_;
  uint32_t generation_ = 0;  // bumped on every connect/abandon: stale callbacks are dropped
  State state_ = State::kIdle;
  bool waiting_write_ = false;
};

}  // namespace fleet_load
