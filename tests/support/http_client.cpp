#include "support/http_client.h"

#include <sodium.h>

#include <poll.h>
#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/json/parse.hpp>

namespace vigil::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

boost::json::value HttpResult::json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  return ec ? boost::json::value() : v;
}

std::string HttpResult::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(uint16_t port, std::string host) : port_(port), host_(std::move(host)) {}
HttpClient::~HttpClient() = default;

bool HttpClient::connect() {
  stream_.emplace(ioc_);
  beast::error_code ec;
  stream_->socket().connect(tcp::endpoint(asio::ip::make_address(host_), port_), ec);
  if (ec) {
    stream_.reset();
    return false;
  }
  return true;
}

HttpResult HttpClient::request(http::verb method, const std::string& target,
                               const std::string& body,
                               const std::map<std::string, std::string>& headers) {
  HttpResult result;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!stream_ && !connect()) {
      result.error = "connect failed";
      return result;
    }
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, host_);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == http::verb::post || method == http::verb::put ||
        method == http::verb::patch) {
      req.body() = body;
      req.prepare_payload();
    }
    beast::error_code ec;
    stream_->expires_after(std::chrono::seconds(30));
    http::write(*stream_, req, ec);
    if (ec) {
      stream_.reset();
      continue;  // stale keep-alive connection: retry once on a new one
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    if (method == http::verb::head) parser.skip(true);
    http::read(*stream_, buffer, parser, ec);
    if (ec) {
      stream_.reset();
      if (attempt == 0 &&
          (ec == http::error::end_of_stream || ec == asio::error::connection_reset)) {
        continue;
      }
      result.error = ec.message();
      return result;
    }
    auto& res = parser.get();
    result.status = res.result_int();
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      result.headers[name] = std::string(f.value());
    }
    result.body = res.body();
    result.keep_alive = res.keep_alive();
    if (!res.keep_alive()) stream_.reset();
    return result;
  }
  result.error = "request failed twice";
  return result;
}

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
