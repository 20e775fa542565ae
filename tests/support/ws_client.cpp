#include "support/ws_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace vigil::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

struct WsClient::Impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  bool open = false;

  // Reads one frame into `buffer` within the timeout: the read's error, or nullopt on timeout
  // (the read is cancelled, which leaves the stream unusable).
  std::optional<beast::error_code> read_one(std::chrono::milliseconds timeout) {
    bool done = false;
    beast::error_code result;
    buffer.clear();
    ws.async_read(buffer, [&](beast::error_code ec, size_t) {
      result = ec;
      done = true;
    });
    ioc.restart();
    ioc.run_for(timeout);
    if (!done) {
      beast::get_lowest_layer(ws).cancel();
      ioc.restart();
      ioc.run();
      return std::nullopt;
    }
    return result;
  }
};

WsClient::WsClient(uint16_t port, const std::string& target, const std::string& token)
    : impl_(std::make_unique<Impl>()) {
  beast::error_code ec;
  beast::get_lowest_layer(impl_->ws).expires_after(std::chrono::seconds(5));
  beast::get_lowest_layer(impl_->ws).connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) {
    error_ = ec.message();
    return;
  }
  impl_->ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
    if (!token.empty()) req.set(beast::http::field::authorization, "Bearer " + token);
  }));
  websocket::response_type res;
  impl_->ws.handshake(res, "127.0.0.1", target, ec);
  status_ = static_cast<int>(res.result_int());
  if (ec) {
    error_ = ec.message();
    return;
  }
  beast::get_lowest_layer(impl_->ws).expires_never();
  impl_->ws.text(true);
  ok_ = impl_->open = true;
}

WsClient::~WsClient() = default;

bool WsClient::send(const boost::json::value& message) {
  return send_text(boost::json::serialize(message));
}

bool WsClient::send_text(const std::string& text) {
  if (!impl_->open) return false;
  beast::error_code ec;
  impl_->ws.write(asio::buffer(text), ec);
  return !ec;
}

std::optional<boost::json::object> WsClient::next(std::chrono::milliseconds timeout) {
  if (!impl_->open) return std::nullopt;
  auto result = impl_->read_one(timeout);
  if (!result || *result) {
    impl_->open = false;
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto v = boost::json::parse(beast::buffers_to_string(impl_->buffer.data()), ec);
  if (ec || !v.is_object()) return boost::json::object{{"type", "not-json"}};
  return v.as_object();
}

std::optional<boost::json::object> WsClient::next_of_type(const std::string& type,
                                                          std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto m = next(left);
    if (!m) return std::nullopt;
    if (auto it = m->find("type"); it != m->end() && it->value() == type.c_str()) return m;
  }
}

bool WsClient::closed_within(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (impl_->open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    auto result = impl_->read_one(left);
    if (!result) {
      impl_->open = false;  // timed out: still open on the server's side
      return false;
    }
    if (*result) return true;
  }
  return true;
}

void WsClient::close() {
  if (!impl_->open) return;
  impl_->open = false;
  beast::error_code ec;
  beast::get_lowest_layer(impl_->ws).expires_after(std::chrono::seconds(2));
  impl_->ws.close(websocket::close_code::normal, ec);
}

}  // namespace vigil::testing
