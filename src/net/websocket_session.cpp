// One WebSocket session: accepts the upgrade, reads text frames and hands them to the route's
// endpoint, and writes queued frames one at a time. Everything runs on the session's strand.
#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>

#include "net/server_state.h"

namespace vigil::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

constexpr size_t kMaxMessageBytes = 1024 * 1024;

template <class Stream>
class WebSocketSession final : public SessionBase,
                               public WsConnection,
                               public std::enable_shared_from_this<WebSocketSession<Stream>> {
 public:
  WebSocketSession(Stream stream, std::shared_ptr<Exchange> upgrade,
                   std::shared_ptr<ServerState> state)
      : ws_(std::move(stream)),
        state_(std::move(state)),
        endpoint_(upgrade->route()->websocket),
        remote_ip_(upgrade->remote_ip()) {
    if (const Principal* p = upgrade->principal()) principal_ = *p;
    state_->open_connections.fetch_add(1, std::memory_order_relaxed);
    state_->ws_sessions.add(1);
  }

  ~WebSocketSession() override {
    if (id_) state_->remove_session(id_);
    state_->ws_sessions.add(-1);
    state_->open_connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void start(HttpRequest request) {
    id_ = state_->add_session(this->weak_from_this());
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = state_->options.header_timeout;
    timeouts.idle_timeout = state_->options.ws_idle_timeout;
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.read_message_max(kMaxMessageBytes);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "vigil"); }));
    request_ = std::move(request);
    ws_.async_accept(request_, [self = this->shared_from_this()](beast::error_code ec) {
      self->request_ = {};
      if (ec) return self->finish();
      self->open_ = true;
      self->endpoint_->on_open(self);
      self->read();
    });
  }

  // WsConnection
  void send(std::string text) override {
    asio::dispatch(ws_.get_executor(),
                   [self = this->shared_from_this(), text = std::move(text)]() mutable {
                     self->enqueue(std::move(text));
                   });
  }
  void close(std::string_view reason) override {
    asio::dispatch(ws_.get_executor(),
                   [self = this->shared_from_this(), r = std::string(reason)]() mutable {
                     self->begin_close(std::move(r));
                   });
  }
  uint64_t id() const override { return id_; }
  const std::string& remote_ip() const override { return remote_ip_; }
  const Principal* principal() const override { return principal_ ? &*principal_ : nullptr; }

  // SessionBase
  void shutdown() override { close("server shutting down"); }

 private:
  void read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->finish();
      if (!self->ws_.got_text()) {
        self->enqueue(R"({"type":"error","ref":null,"detail":"binary frames are not supported"})");
      } else {
        auto data = self->buffer_.cdata();
        std::string_view text(static_cast<const char*>(data.data()), data.size());
        try {
          self->endpoint_->on_message(self, text);
        } catch (const std::exception& e) {
          spdlog::error("websocket endpoint threw: {}", e.what());
        }
      }
      self->buffer_.consume(self->buffer_.size());
      if (!self->closing_) self->read();
    });
  }

  void enqueue(std::string text) {
    if (!open_ || closing_) return;
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
    if (queued_bytes_ > state_->options.ws_max_queued_bytes) {
      spdlog::warn("websocket {} from {} does not read; closing", id_, remote_ip_);
      queue_.clear();
      queued_bytes_ = 0;
      return begin_close("too slow");
    }
    if (queue_.size() == 1) write_front();
  }

  void write_front() {
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = this->shared_from_this()](beast::error_code ec, size_t) {
                      if (ec) return self->finish();
                      self->queued_bytes_ -= self->queue_.front().size();
                      self->queue_.pop_front();
                      if (!self->queue_.empty()) return self->write_front();
                      if (self->closing_) self->send_close();
                    });
  }

  void begin_close(std::string reason) {
    if (!open_ || closing_) return;
    closing_ = true;
    close_reason_ = std::move(reason);
    if (queue_.empty()) send_close();
  }

  void send_close() {
    websocket::close_reason cr(websocket::close_code::normal);
    cr.reason = close_reason_.substr(0, 120);
    ws_.async_close(cr, [self = this->shared_from_this()](beast::error_code) { self->finish(); });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    if (open_) endpoint_->on_close(this->shared_from_this());
    open_ = false;
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

  websocket::stream<Stream> ws_;
  std::shared_ptr<ServerState> state_;
  std::shared_ptr<WsEndpoint> endpoint_;
  std::string remote_ip_;
  std::optional<Principal> principal_;
  HttpRequest request_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  std::string close_reason_;
  uint64_t id_ = 0;
  bool open_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

}  // namespace

template <class Stream>
void start_websocket_session(Stream stream, HttpRequest request, std::shared_ptr<Exchange> upgrade,
                             std::shared_ptr<ServerState> state) {
  auto session = std::make_shared<WebSocketSession<Stream>>(std::move(stream), std::move(upgrade),
                                                            std::move(state));
  session->start(std::move(request));
}

template void start_websocket_session<PlainStream>(PlainStream, HttpRequest,
                                                   std::shared_ptr<Exchange>,
                                                   std::shared_ptr<ServerState>);
template void start_websocket_session<TlsStream>(TlsStream, HttpRequest, std::shared_ptr<Exchange>,
                                                 std::shared_ptr<ServerState>);

}  // namespace vigil::net
