#include "http_conn.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <cstdlib>

#include "common.h"

#include <memory>

namespace fleet_load {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kBufferBytes = 64 * 1024;
constexpr size_t kMaxHeadBytes = 32 * 1024;
constexpr size_t kMaxStoredBody = 4 * 1024 * 1024;

}  // namespace

std::string request_text(std::string_view method, std::string_view target,
                         std::string_view host_header, std::string_view token,
                         std::string_view json_body) {
  std::string r;
  r.reserve(160 + token.size() + json_body.size());
  r.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host_header);
  r.append("\r\n");
  if (!token.empty()) r.append("Authorization: Bearer ").append(token).append("\r\n");
  if (!json_body.empty() || method == "POST") {
    r.append("Content-Type: application/json\r\nContent-Length: ");
    r.append(std::to_string(json_body.size())).append("\r\n");
  }
  r.append("\r\n").append(json_body);
  return r;
}

HttpConn::HttpConn(asio::io_context& ctx, tcp::endpoint server, asio::ip::address_v4 source)
    : sock_(ctx), server_(server), source_(source), buffer_(kBufferBytes) {}

void HttpConn::send(std::string request, Sink sink, Done done) {
  request_ = std::move(request);
  sink_ = std::move(sink);
  done_ = std::move(done);
  retried_ = false;
  start(!sock_.is_open());
}

void HttpConn::start(bool fresh) {
  answer_ = {};
  head_.clear();
  in_body_ = false;
  close_after_ = false;
  body_left_ = 0;
  received_ = 0;
  if (!fresh) return write();
  if (auto ec = open_from(sock_, source_)) return finish("socket: " + ec.message());
  ++connects_;
  sock_.async_connect(server_, [this](const boost::system::error_code& ec) {
    if (ec) return finish("connect: " + ec.message());
    write();
  });
}

void HttpConn::write() {
  asio::async_write(sock_, asio::buffer(request_),
                    [this](const boost::system::error_code& ec, size_t) {
                      if (ec) {
                        // A kept-alive connection the server closed meanwhile: once more, anew.
                        if (!retried_) {
                          retried_ = true;
                          return start(true);
                        }
                        return finish("write: " + ec.message());
                      }
                      read();
                    });
}

void HttpConn::read() {
  sock_.async_read_some(asio::buffer(buffer_),
                        [this](const boost::system::error_code& ec, size_t n) {
                          if (ec) {
                            if (received_ == 0 && !retried_) {
                              retried_ = true;
                              return start(true);
                            }
                            return finish("read: " + ec.message());
                          }
                          received_ += n;
                          if (consume(buffer_.data(), n)) read();
                        });
}

bool HttpConn::consume(const char* data, size_t n) {
  if (!in_body_) {
    const size_t before = head_.size();
    head_.append(data, n);
    const size_t end = head_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (head_.size() > kMaxHeadBytes) finish("answer head too large");
      return head_.size() <= kMaxHeadBytes;
    }
    const std::string_view head(head_.data(), end + 2);
    answer_.status = http_status(head);
    if (answer_.status == 0) {
      finish("not an HTTP/1.1 answer");
      return false;
    }
    answer_.retry_after_s = retry_after_s(head);
    if (!header_value(head, "transfer-encoding").empty()) {
      finish("chunked answers are not supported");
      return false;
    }
    auto connection = header_value(head, "connection");
    close_after_ = connection.size() == 5 && (connection[0] | 0x20) == 'c';  // "close"
    auto length = header_value(head, "content-length");
    body_left_ = length.empty() ? 0 : std::strtoull(std::string(length).c_str(), nullptr, 10);
    in_body_ = true;
    const size_t body_at = end + 4 - before;  // where the body starts in `data`
    data += body_at;
    n -= body_at;
  }
  if (n > body_left_) {
    finish("more bytes than Content-Length");
    return false;
  }
  body_left_ -= n;
  if (n > 0) {
    if (sink_ && answer_.status / 100 == 2) {
      sink_(data, n);
    } else if (answer_.body.size() + n <= kMaxStoredBody) {
      answer_.body.append(data, n);
    }
  }
  if (body_left_ > 0) return true;
  finish();
  return false;
}

void HttpConn::finish(std::string error) {
  answer_.error = std::move(error);
  if (!answer_.error.empty() || close_after_) {
    boost::system::error_code ec;
    sock_.close(ec);
  }
  Done done = std::move(done_);
  done_ = nullptr;
  HttpAnswer answer = std::move(answer_);
  if (done) done(answer);
}

Window measure_window(double warmup_s, double measure_s) {
  auto seconds = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  const auto from = Clock::now() + seconds(warmup_s);
  return {from, from + seconds(measure_s)};
}

void run_loops(asio::io_context& ctx, const Target& target, int n,
               const std::function<void(int, HttpConn&)>& start) {
  std::vector<std::unique_ptr<HttpConn>> conns;
  for (int i = 0; i < n; ++i) {
    conns.push_back(
        std::make_unique<HttpConn>(ctx, target.endpoint(), asio::ip::address_v4::loopback()));
    start(i, *conns.back());
  }
  ctx.run();  // every loop stops at the window's end and its last answer ends it
}

}  // namespace fleet_load
