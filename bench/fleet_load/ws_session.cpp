#include "ws_session.h"

#include <array>
#include <cstring>

#include "common.h"

namespace fleet_load {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Every session sends the same Sec-WebSocket-Key (RFC 6455's example: the server does not
// care that it repeats) and checks the matching accept value.
constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
constexpr size_t kMaxHandshakeBytes = 16384;
constexpr size_t kMaxMessageBytes = 1 << 20;

// One read buffer for every session of the thread: a session keeps only leftovers.
thread_local std::array<char, 65536> read_buffer;
thread_local std::string frame_scratch;
thread_local uint32_t mask_state = 0x9e3779b9u;

uint32_t next_mask() {
  uint32_t x = mask_state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return mask_state = x;
}

}  // namespace

void WsSession::connect(const tcp::endpoint& server, const asio::ip::address_v4& source,
                        std::string_view host_header, std::string_view path,
                        std::string_view token) {
  abandon();
  const uint32_t gen = generation_;
  state_ = State::kConnecting;
  if (open_from(sock_, source)) {
    // Out of descriptors, or a source address that is not local: fail from the loop, as a
    // refused connect would.
    asio::post(sock_.get_executor(), [this, gen] {
      if (gen == generation_) fail(WsFailure::kConnect);
    });
    return;
  }
  std::string request;
  request.reserve(256 + token.size());
  request.append("GET ").append(path).append(" HTTP/1.1\r\nHost: ").append(host_header);
  request.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
  request.append(kKey).append("\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ");
  request.append(token).append("\r\n\r\n");
  sock_.async_connect(
      server, [this, gen, request = std::move(request)](const boost::system::error_code& ec) {
        if (gen != generation_) return;
        if (ec) return fail(WsFailure::kConnect);
        boost::system::error_code ignored;
        sock_.non_blocking(true, ignored);
        state_ = State::kHandshake;
        write_raw(request);
        wait_readable();
      });
}

void WsSession::abandon() {
  ++generation_;
  boost::system::error_code ignored;
  if (sock_.is_open()) sock_.close(ignored);
  std::string().swap(in_);
  std::string().swap(msg_);
  std::string().swap(out_);
  waiting_write_ = false;
  state_ = State::kIdle;
}

void WsSession::send_text(std::string_view text) {
  if (state_ != State::kOpen) return;
  std::string& f = frame_scratch;
  f.clear();
  f.push_back(static_cast<char>(0x81));  // FIN, text
  if (text.size() < 126) {
    f.push_back(static_cast<char>(0x80 | text.size()));
  } else if (text.size() <= 0xffff) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(text.size() >> 8));
    f.push_back(static_cast<char>(text.size() & 0xff));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((uint64_t(text.size()) >> (8 * i))));
  }
  const uint32_t mask = next_mask();
  char m[4];
  std::memcpy(m, &mask, 4);
  f.append(m, 4);
  const size_t at = f.size();
  f.append(text);
  for (size_t i = 0; i < text.size(); ++i) f[at + i] = static_cast<char>(f[at + i] ^ m[i & 3]);
  write_raw(f);
}

void WsSession::write_raw(std::string_view bytes) {
  if (!out_.empty()) {
    out_.append(bytes);
    return;
  }
  boost::system::error_code ec;
  size_t n = sock_.write_some(asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    n = 0;
  } else if (ec) {
    return;  // the read side sees the broken connection and reports it
  }
  if (n < bytes.size()) {
    out_.assign(bytes.substr(n));
    wait_writable();
  }
}

void WsSession::wait_writable() {
  if (waiting_write_) return;
  waiting_write_ = true;
  const uint32_t gen = generation_;
  sock_.async_wait(tcp::socket::wait_write, [this, gen](const boost::system::error_code& ec) {
    if (gen != generation_) return;
    waiting_write_ = false;
    if (ec) return;
    boost::system::error_code wec;
    size_t n = sock_.write_some(asio::buffer(out_), wec);
    if (wec && wec != asio::error::would_block && wec != asio::error::try_again) return;
    if (wec) n = 0;
    out_.erase(0, n);
    if (out_.empty()) {
      std::string().swap(out_);
    } else {
      wait_writable();
    }
  });
}

void WsSession::wait_readable() {
  const uint32_t gen = generation_;
  sock_.async_wait(tcp::socket::wait_read, [this, gen](const boost::system::error_code& ec) {
    if (gen != generation_) return;
    if (ec) return closed("read wait failed: " + ec.message());
    on_readable();
  });
}

void WsSession::on_readable() {
  const uint32_t gen = generation_;
  for (;;) {
    boost::system::error_code ec;
    const size_t n = sock_.read_some(asio::buffer(read_buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      if (state_ == State::kHandshake) return fail(WsFailure::kProtocol);
      return closed(ec == asio::error::eof ? "the server closed the connection" : ec.message());
    }
    std::string_view data(read_buffer.data(), n);
    if (in_.empty()) {
      const size_t used = consume(data);
      if (gen != generation_ || state_ == State::kClosed || state_ == State::kIdle) return;
      if (used < data.size()) in_.assign(data.substr(used));
    } else {
      in_.append(data);
      const size_t used = consume(in_);
      if (gen != generation_ || state_ == State::kClosed || state_ == State::kIdle) return;
      in_.erase(0, used);
      if (in_.empty()) std::string().swap(in_);
    }
    if (n < read_buffer.size()) break;
  }
  wait_readable();
}

size_t WsSession::consume(std::string_view data) {
  size_t used = 0;
  if (state_ == State::kHandshake) {
    used = consume_handshake(data);
    if (state_ != State::kOpen) return used;
  }
  return used + consume_frames(data.substr(used));
}

size_t WsSession::consume_handshake(std::string_view data) {
  const size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (data.size() > kMaxHandshakeBytes) fail(WsFailure::kProtocol);
    return 0;
  }
  const std::string_view head = data.substr(0, end + 2);
  const int status = http_status(head);
  if (status != 101) {
    fail(status ? WsFailure::kRefused : WsFailure::kProtocol, status, retry_after_s(head));
    return end + 4;
  }
  if (header_value(head, "Sec-WebSocket-Accept") != kAccept) {
    fail(WsFailure::kProtocol, status);
    return end + 4;
  }
  state_ = State::kOpen;
  handler_->on_open(*this);
  return end + 4;
}

size_t WsSession::consume_frames(std::string_view d) {
  size_t at = 0;
  const uint32_t gen = generation_;
  while (state_ == State::kOpen && gen == generation_ && d.size() - at >= 2) {
    const auto b0 = static_cast<uint8_t>(d[at]);
    const auto b1 = static_cast<uint8_t>(d[at + 1]);
    uint64_t len = b1 & 0x7f;
    size_t head = 2;
    if (len == 126) {
      if (d.size() - at < 4) break;
      len = (uint64_t(uint8_t(d[at + 2])) << 8) | uint8_t(d[at + 3]);
      head = 4;
    } else if (len == 127) {
      if (d.size() - at < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | uint8_t(d[at + 2 + i]);
      head = 10;
    }
    if ((b1 & 0x80) || len > kMaxMessageBytes) {
      closed("a masked or oversized frame from the server");
      return d.size();
    }
    if (d.size() - at < head + len) break;
    const std::string_view payload = d.substr(at + head, len);
    at += head + len;
    const bool fin = b0 & 0x80;
    switch (b0 & 0x0f) {
      case 0x0:  // continuation
        msg_.append(payload);
        if (fin) {
          std::string whole;
          whole.swap(msg_);
          handler_->on_text(*this, whole);
        }
        break;
      case 0x1:
      case 0x2:
        if (fin) {
          handler_->on_text(*this, payload);
        } else {
          msg_.assign(payload);
        }
        break;
      case 0x8: {
        std::string why = "the server closed the session";
        if (payload.size() > 2) why += ": " + std::string(payload.substr(2));
        closed(why);
        return d.size();
      }
      case 0x9: {  // ping: answer with a pong of the same payload
        std::string& f = frame_scratch;
        f.assign({static_cast<char>(0x8a), static_cast<char>(0x80 | payload.size()), 0, 0, 0, 0});
        f.append(payload);
        write_raw(f);
        break;
      }
      default: break;  // pong
    }
  }
  return at;
}

void WsSession::fail(WsFailure why, int status, int retry_after_s) {
  abandon();
  handler_->on_fail(*this, why, status, retry_after_s);
}

void WsSession::closed(std::string_view why) {
  const std::string reason(why);
  abandon();
  state_ = State::kClosed;
  handler_->on_closed(*this, reason);
}

}  // namespace fleet_load
