#include "support/http_client.h"

#include <sodium.h>

#include <poll.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

namespace vigil::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {
client::ClientOptions test_options() {
  client::ClientOptions o;
  o.timeout = std::chrono::seconds(120);  // uploads of hundreds of MB under ASan
  o.max_response_bytes = 256 << 20;
  return o;
}
}  // namespace

HttpClient::HttpClient(uint16_t port, std::string host)
    : client::HttpClient(client::Url{.scheme = "http", .host = std::move(host), .port = port},
                         test_options()) {}

RawConnection::RawConnection(uint16_t port, const std::string& from) : socket_(ioc_) {
  beast::error_code ec;
  if (!from.empty()) {
    socket_.open(tcp::v4(), ec);
    if (!ec) socket_.bind(tcp::endpoint(asio::ip::make_address(from), 0), ec);
  }
  if (!ec) socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
}

bool RawConnection::send(const std::string& bytes) {
  beast::error_code ec;
  asio::write(socket_, asio::buffer(bytes), ec);
  return !ec;
}

std::string RawConnection::read_all(std::chrono::milliseconds timeout) {
  return read_until(timeout, [](const std::string&) { return false; });
}

std::string RawConnection::read_response(std::chrono::milliseconds timeout) {
  return read_until(timeout, [](const std::string& out) {
    auto head_end = out.find("\r\n\r\n");
    if (head_end == std::string::npos) return false;
    if (out.starts_with("HTTP/1.1 1")) return true;  // an interim response has no body
    auto length = out.find("\r\nContent-Length: ");
    size_t body = length < head_end ? std::stoul(out.substr(length + 18)) : 0;
    return out.size() >= head_end + 4 + body;
  });
}

std::string RawConnection::read_until(std::chrono::milliseconds timeout,
                                      const std::function<bool(const std::string&)>& done) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (!done(out)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    beast::error_code ec;
    size_t n = socket_.read_some(asio::buffer(buf), ec);
    if (ec || n == 0) break;
    out.append(buf, n);
  }
  return out;
}

bool RawConnection::closed_within(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    beast::error_code ec;
    size_t n = socket_.read_some(asio::buffer(buf), ec);
    if (ec || n == 0) return true;
  }
}

std::string basic_authorization(const std::string& user, const std::string& password) {
  std::string raw = user + ":" + password;
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return "Basic " + out;
}

int status_of(const std::string& raw) {
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12) return 0;
  return std::atoi(raw.substr(9, 3).c_str());
}

}  // namespace vigil::testing
