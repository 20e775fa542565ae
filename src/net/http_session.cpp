// One HTTP/1.1 connection: reads a request head, picks the route, reads the body within the
// route's limit, runs middleware and the handler, writes the response, and repeats while the
// connection is kept alive. Everything runs on the connection's strand.
#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>

#include "core/ids.h"
#include "net/server_state.h"

namespace vigil::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

// A client's X-Request-Id is echoed and logged as sent, so it must be short and printable;
// another is refused (400), not silently replaced or cut.
bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

template <class Stream>
class HttpSession final : public SessionBase,
                          public ChainRunner,
                          public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream stream, std::shared_ptr<ServerState> state, std::string remote_ip)
      : stream_(std::move(stream)),
        deadline_(stream_.get_executor()),
        state_(std::move(state)),
        remote_ip_(std::move(remote_ip)) {
    state_->http_connections.add(1);
  }

  ~HttpSession() override {
    if (registered_) state_->remove_session(id_);
    state_->http_connections.add(-1);
    state_->open_connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void start() {
    id_ = state_->add_session(this->weak_from_this());
    registered_ = true;
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->begin(); });
  }

  void shutdown() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->close_after_ = true;
      if (self->phase_ == Phase::kIdle) self->cancel_io();
    });
  }

 private:
  enum class Phase { kIdle, kHead, kBody, kHandling, kWriting, kClosed };

  void begin() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      phase_ = Phase::kHead;
      arm(state_->options.header_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                self->disarm();
                                if (ec) return self->close_now();
                                self->read_next();
                              });
    } else {
      read_next();
    }
  }

  // Waits for the first byte of the next request (idle keep-alive), then reads its head.
  void read_next() {
    if (close_after_ || state_->stopping.load()) return graceful_close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.max_header_bytes));
    parser_->body_limit(boost::none);
    if (buffer_.size() > 0) return read_head();
    phase_ = Phase::kIdle;
    arm(state_->options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->disarm();
                              if (ec || n == 0)
                                return self->close_now();  // idle timeout, peer closed, shutdown
                              self->buffer_.commit(n);
                              self->read_head();
                            });
  }

  void read_head() {
    phase_ = Phase::kHead;
    bytes_in_ = 0;
    // Most requests arrive whole: parse what is buffered without another trip through the
    // reactor, and go asynchronous only for the rest.
    if (buffer_.size() > 0) {
      beast::error_code ec;
      size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      bytes_in_ = used;
      if (ec && ec != http::error::need_more) return on_read_error(ec);
      if (!ec && parser_->is_header_done()) return on_head({});
    }
    arm(state_->options.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->disarm();
                              self->bytes_in_ += n;
                              self->on_head(ec);
                            });
  }

  void on_head(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    auto& req = parser_->get();
    if (auto bad = head_error(req)) {
      close_after_ = true;  // the body is not read, so the connection cannot be reused
      return reject(bad->status, bad->detail);
    }
    match_ = state_->router.match(req.method(), path_of(req.target()));
    size_t limit = state_->options.max_body_bytes;
    if (match_.route && match_.route->spec.max_body_bytes >= 0) {
      limit = static_cast<size_t>(match_.route->spec.max_body_bytes);
    }
    if (auto len = parser_->content_length(); len && *len > limit) {
      close_after_ = true;  // the body is not read, so the connection cannot be reused
      return reject(http::status::payload_too_large, "request body of " + std::to_string(*len) +
                                                         " bytes exceeds the limit of " +
                                                         std::to_string(limit) + " bytes");
    }
    parser_->body_limit(limit);
    if (parser_->is_done() || take_buffered_body()) {
      body_pending_ = false;
      auto whole = parser_->release();
      parser_.reset();
      return begin_exchange(std::move(whole));
    }
    // The caller is authenticated and authorised on the head; the body is read only once the
    // middleware let the request through (run_chain → read_body).
    body_pending_ = true;
    HttpRequest head;
    head.base() = parser_->get().base();
    begin_exchange(std::move(head));
  }

  // A body that arrived whole with its head (at most one read buffer, so it is in memory
  // already) is parsed at once: small requests take the same path as before.
  bool take_buffered_body() {
    auto len = parser_->content_length();
    if (!len || buffer_.size() < *len) return false;
    beast::error_code ec;
    while (!parser_->is_done() && buffer_.size() > 0) {
      size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      bytes_in_ += used;
      if (ec || used == 0) break;
    }
    return parser_->is_done();
  }

  void begin_exchange(HttpRequest req) {
    phase_ = Phase::kHandling;
    auto ex = make_exchange(std::move(req));
    ex->set_route(match_.route, std::move(match_.params));
    std::string_view target(ex->request().target().data(), ex->request().target().size());
    if (!valid_target(target)) {
      return ex->respond_problem(http::status::bad_request,
                                 "malformed request target: an invalid percent-escape");
    }
    if (bad_request_id_) {
      return ex->respond_problem(http::status::bad_request,
                                 "X-Request-Id must be 1 to 128 visible ASCII characters");
    }
    run_chain(ex, 0);
  }

  // The middleware let the request through: its body is read now, charged to the server's and
  // the client's body budget (refused with 503 or 429 when either is full), then the handler
  // runs. 100 Continue goes only to callers who got this far.
  void read_body(const std::shared_ptr<Exchange>& ex) {
    body_ex_ = ex;
    reservation_ = state_->body_budget.open(remote_ip_);
    if (auto len = parser_->content_length(); len && !charge(*len)) return;
    phase_ = Phase::kBody;
    arm(state_->options.body_timeout);
    if (beast::iequals(ex->request()[http::field::expect], "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      return asio::async_write(stream_, asio::buffer(kContinue),
                               [self = this->shared_from_this()](beast::error_code wec, size_t) {
                                 if (wec) return self->on_read_error(wec);
                                 self->read_body_some();
                               });
    }
    read_body_some();
  }

  // Bytes for the body; false (and the request answered) when a budget is full.
  bool charge(size_t n) {
    auto refusal = reservation_.grow(n);
    if (refusal == BodyBudget::Refusal::kNone) return true;
    close_after_ = true;
    bool server = refusal == BodyBudget::Refusal::kServer;
    (server ? state_->bodies_refused_server : state_->bodies_refused_client).inc();
    auto res =
        make_problem(server ? http::status::service_unavailable : http::status::too_many_requests,
                     server ? "the server is receiving too many request bodies at once; retry"
                            : "this client is sending too many request bodies at once; retry");
    res.set(http::field::retry_after, "1");
    answer(std::move(res));
    return false;
  }

  void read_body_some() {
    http::async_read_some(stream_, buffer_, *parser_,
                          [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->bytes_in_ += n;
                            if (ec) return self->on_read_error(ec);
                            if (!self->parser_->content_length()) {  // chunked: charged as it grows
                              size_t size = self->parser_->get().body().size();
                              if (size > self->reservation_.bytes() &&
                                  !self->charge(size - self->reservation_.bytes()))
                                return;
                            }
                            if (!self->parser_->is_done()) return self->read_body_some();
                            self->disarm();
                            self->body_done();
                          });
  }

  void body_done() {
    auto ex = std::move(body_ex_);
    body_pending_ = false;
    phase_ = Phase::kHandling;
    ex->mutable_request().body() = std::move(parser_->get().body());
    parser_.reset();
    ex->set_bytes_in(bytes_in_);
    ex->hold(std::move(reservation_));
    handle(ex);
  }

  void on_read_error(beast::error_code ec) {
    disarm();
    close_after_ = true;
    if (timed_out_ && (phase_ == Phase::kHead || phase_ == Phase::kBody)) {
      timed_out_ = false;
      return reject(http::status::request_timeout, phase_ == Phase::kHead
                                                       ? "the request head was not sent in time"
                                                       : "the request body was not sent in time");
    }
    if (ec == http::error::header_limit) {
      return reject(
          http::status::request_header_fields_too_large,
          "request head exceeds " + std::to_string(state_->options.max_header_bytes) + " bytes");
    }
    if (ec == http::error::body_limit) {
      return reject(http::status::payload_too_large, "request body exceeds the limit");
    }
    if (ec.category() == beast::error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return reject(http::status::bad_request, "malformed HTTP request: " + ec.message());
    }
    close_now();
    // The client went away mid-body: its exchange is answered for the record (audit, metrics);
    // nothing is written.
    if (body_ex_) {
      std::exchange(body_ex_, nullptr)
          ->respond_problem(http::status::bad_request, "the request body was not sent in full");
    }
  }

  // Answers a request the server refuses itself; middleware still sees it.
  void reject(http::status status, const std::string& detail) {
    answer(make_problem(status, detail));
  }

  // Answers the request being read: the exchange waiting for its body, or a new one for a
  // request refused on (or before) its head.
  void answer(HttpResponse res) {
    linger_ = true;  // what the client still sends is read and dropped before closing
    if (body_ex_) return std::exchange(body_ex_, nullptr)->respond(std::move(res));
    HttpRequest req;
    if (parser_ && parser_->is_header_done()) {
      req.base() = parser_->get().base();
    }
    make_exchange(std::move(req))->respond(std::move(res));
  }

  std::shared_ptr<Exchange> make_exchange(HttpRequest req) {
    std::string rid;
    bad_request_id_ = false;
    if (auto it = req.find("X-Request-Id"); it != req.end() && !it->value().empty()) {
      if (valid_request_id(it->value())) {
        rid = std::string(it->value());
      } else {
        bad_request_id_ = true;  // answered 400 under an id of ours (begin_exchange)
      }
    }
    if (rid.empty()) rid = new_request_id();
    req_version_ = req.version() ? req.version() : 11;
    keep_alive_ = req.keep_alive();
    is_head_ = req.method() == http::verb::head;
    auto ex = std::make_shared<Exchange>(
        std::move(req), remote_ip_, std::move(rid),
        [self = this->shared_from_this()](HttpResponse&& res, std::optional<FileBody>&& file) {
          asio::dispatch(self->stream_.get_executor(),
                         [self, res = std::move(res), file = std::move(file)]() mutable {
                           self->write(std::move(res), std::move(file));
                         });
        });
    ex->set_bytes_in(bytes_in_);
    ex->set_middleware(&state_->middleware);
    return ex;
  }

  // Middleware `from` onwards, then the handler. A middleware that suspends the exchange comes
  // back through resume_chain(); meanwhile the connection reads nothing (phase kHandling), so
  // match_ stays this request's.
  void run_chain(const std::shared_ptr<Exchange>& ex, size_t from) {
    const auto& chain = state_->middleware;
    for (size_t i = from; i < chain.size(); ++i) {
      ex->set_chain(this, i + 1);  // before before(): it may resume at once from another thread
      Flow flow = chain[i]->before(ex);
      if (ex->responded() || flow == Flow::kSuspended) return;
    }
    if (body_pending_) return read_body(ex);
    handle(ex);
  }

  void resume_chain(std::shared_ptr<Exchange> ex, size_t next) override {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this(), ex = std::move(ex),
                                            next] { self->run_chain(ex, next); });
  }

  void handle(const std::shared_ptr<Exchange>& ex) {
    const Route* route = match_.route;
    if (!route) {
      if (match_.path_known) {
        auto res = make_problem(http::status::method_not_allowed,
                                "method not allowed here; allowed: " + match_.allow);
        res.set(http::field::allow, match_.allow);
        return ex->respond(std::move(res));
      }
      return ex->respond_problem(http::status::not_found, "no such endpoint");
    }
    if (route->websocket) {
      if (!beast::websocket::is_upgrade(ex->request())) {
        return ex->respond_problem(http::status::upgrade_required,
                                   "this endpoint needs a WebSocket upgrade");
      }
      upgrade_ = ex;
      return ex->respond(HttpResponse{http::status::switching_protocols, 11});
    }
    try {
      route->handler(ex);
    } catch (const std::exception& e) {
      spdlog::error("handler {} {} threw: {}", std::string(http::to_string(route->method)),
                    route->pattern, e.what());
      ex->respond_problem(http::status::internal_server_error, "internal error");
    }
  }

  void write(HttpResponse&& res, std::optional<FileBody> file = std::nullopt) {
    if (phase_ == Phase::kClosed) return;
    if (upgrade_ && res.result() == http::status::switching_protocols) {
      auto ex = std::move(upgrade_);
      disarm();
      deadline_.cancel();
      phase_ = Phase::kClosed;
      HttpRequest req = ex->request();
      start_websocket_session<Stream>(std::move(stream_), std::move(req), std::move(ex), state_);
      return;
    }
    upgrade_.reset();
    if (body_pending_) {      // answered on its head: the body stays unread, and the connection
      body_pending_ = false;  // cannot carry another request
      body_ex_.reset();
      reservation_.release();
      close_after_ = true;
      linger_ = true;
    }
    phase_ = Phase::kWriting;
    res.version(req_version_);
    bool keep = keep_alive_ && !close_after_ && !state_->stopping.load();
    res.keep_alive(keep);
    // A file response has its Content-Length already (Exchange::respond_file).
    if (!file) res.prepare_payload();
    if (is_head_) {
      auto n = file ? file->length : res.body().size();
      res.body().clear();
      res.content_length(n);
      file.reset();
    }
    response_ = std::move(res);
    file_ = std::move(file);
    write_head(*response_, head_);
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_),
                                                    asio::buffer(response_->body())};
    arm(state_->options.body_timeout);
    asio::async_write(stream_, buffers,
                      [self = this->shared_from_this(), keep](beast::error_code ec, std::size_t) {
                        self->disarm();
                        self->response_.reset();
                        if (!ec && self->file_ && self->file_->length > 0) {
                          return self->write_file_chunk(keep);
                        }
                        self->written(ec, keep);
                      });
  }

  // A file body, kFileChunk bytes at a time: read with pread (the files are local: the artifact
  // cache), then written. The head is out already, so a failed read can only close the
  // connection; the client sees a short body.
  static constexpr size_t kFileChunk = 256 * 1024;
  void write_file_chunk(bool keep) {
    FileBody& f = *file_;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kFileChunk, f.length));
    chunk_.resize(want);
    size_t got = 0;
    while (got < want) {
      ssize_t n =
          ::pread(*f.fd, chunk_.data() + got, want - got, static_cast<off_t>(f.offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        spdlog::error("file response: read failed at byte {}; closing the connection", f.offset);
        file_.reset();
        chunk_ = {};
        return close_now();
      }
      got += static_cast<size_t>(n);
    }
    f.offset += got;
    f.length -= got;
    arm(state_->options.body_timeout);
    asio::async_write(stream_, asio::buffer(chunk_.data(), got),
                      [self = this->shared_from_this(), keep](beast::error_code ec, std::size_t) {
                        self->disarm();
                        if (!ec && self->file_->length > 0) return self->write_file_chunk(keep);
                        self->written(ec, keep);
                      });
  }

  // The response is out (or failed).
  void written(beast::error_code ec, bool keep) {
    file_.reset();
    if (chunk_.capacity() > 0) chunk_ = {};
    if (ec || !keep) return graceful_close();
    read_next();
  }

  // The status line and fields of a prepared response, into out (whose capacity is reused from
  // one response to the next). Beast's serializer walks a generic buffer sequence per field; a
  // flat head and the body as a second buffer make one sendmsg with two iovecs, no body copy.
  static void write_head(const HttpResponse& res, std::string& out) {
    out.clear();
    out += res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    char code[8];
    auto [end, ec] = std::to_chars(code, code + sizeof(code), res.result_int());
    (void)ec;
    out.append(code, end);
    out += ' ';
    auto reason = res.reason();
    out.append(reason.data(), reason.size());
    out += "\r\n";
    for (const auto& f : res) {
      auto name = f.name_string();
      auto value = f.value();
      out.append(name.data(), name.size());
      out += ": ";
      out.append(value.data(), value.size());
      out += "\r\n";
    }
    out += "\r\n";
  }

  // One timer wait at a time serves every phase: arm() only moves the deadline, and the
  // timer re-waits when it fires early, so no phase pays for a cancel and a new wait.
  void arm(std::chrono::milliseconds timeout) {
    timed_out_ = false;
    armed_ = true;
    deadline_at_ = std::chrono::steady_clock::now() + timeout;
    if (!timer_waiting_ || deadline_at_ < timer_expiry_) wait_timer();
  }
  void disarm() { armed_ = false; }

  void wait_timer() {
    timer_waiting_ = true;
    timer_expiry_ = deadline_at_;
    uint64_t gen = ++timer_gen_;
    deadline_.expires_at(deadline_at_);  // aborts an earlier wait; its handler sees the old gen
    deadline_.async_wait([weak = this->weak_from_this(), gen](beast::error_code ec) {
      auto self = weak.lock();
      if (!self || gen != self->timer_gen_) return;
      self->timer_waiting_ = false;
      if (ec || self->phase_ == Phase::kClosed || !self->armed_) return;
      if (std::chrono::steady_clock::now() < self->deadline_at_) return self->wait_timer();
      self->timed_out_ = true;
      self->cancel_io();
    });
  }

  void cancel_io() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().cancel(ec);
  }

  void graceful_close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    disarm();
    deadline_.cancel();
    beast::error_code ec;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
      });
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      if (linger_) return linger();
      stream_.socket().close(ec);
    }
  }

  // After the server refused a request itself (reject(): 413, 431, 408, 400) the client may
  // still be sending it. Closing with its bytes unread makes the kernel answer them with a
  // reset, which can destroy the response before the client has read it. So, like nginx's
  // lingering close: the response is out and our side shut down (the client sees the end),
  // then what still arrives is read and dropped until the client closes, for at most
  // kLingerTime.
  static constexpr auto kLingerTime = std::chrono::seconds(2);
  static constexpr size_t kLingerBuffer = 16 * 1024;
  void linger() {
    ++timer_gen_;  // an earlier timer wait is stale from here on
    deadline_.expires_after(kLingerTime);
    deadline_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;  // cancelled: the client closed first
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().close(ignored);  // ends drain()'s read
    });
    chunk_.resize(kLingerBuffer);
    drain();
  }
  void drain() {
    beast::get_lowest_layer(stream_).socket().async_read_some(
        asio::buffer(chunk_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
          if (!ec) return self->drain();
          self->deadline_.cancel();
          self->chunk_ = {};
          beast::error_code ignored;
          beast::get_lowest_layer(self->stream_).socket().close(ignored);
        });
  }

  void close_now() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    disarm();
    deadline_.cancel();
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().close(ec);
  }

  static std::string_view path_of(beast::string_view target) {
    std::string_view t(target.data(), target.size());
    return t.substr(0, t.find('?'));
  }

  Stream stream_;
  asio::steady_timer deadline_;
  std::shared_ptr<ServerState> state_;
  std::string remote_ip_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  RouteMatch match_;
  std::optional<HttpResponse> response_;  // being written; its head in head_
  std::string head_;
  std::optional<FileBody> file_;  // the rest of a file body being written
  std::vector<char> chunk_;       // its current chunk
  std::shared_ptr<Exchange> upgrade_;
  std::shared_ptr<Exchange> body_ex_;    // through the middleware, its body being read
  BodyBudget::Reservation reservation_;  // that body's bytes
  Phase phase_ = Phase::kIdle;
  uint64_t id_ = 0;
  size_t bytes_in_ = 0;
  unsigned req_version_ = 11;
  std::chrono::steady_clock::time_point deadline_at_;
  std::chrono::steady_clock::time_point timer_expiry_;
  uint64_t timer_gen_ = 0;
  bool registered_ = false;
  bool armed_ = false;
  bool timer_waiting_ = false;
  bool timed_out_ = false;
  bool keep_alive_ = true;
  bool is_head_ = false;
  bool close_after_ = false;
  bool bad_request_id_ = false;  // the request's X-Request-Id cannot be used
  bool body_pending_ = false;    // the current exchange began on its head; its body is unread
  bool linger_ = false;  // close with linger(): a request was refused before it was all read
};

}  // namespace

void start_http_session(tcp::socket socket, std::shared_ptr<ServerState> state) {
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  std::string ip = ec ? std::string("unknown") : endpoint.address().to_string();
  socket.set_option(tcp::no_delay(true), ec);
  if (state->ssl) {
    auto session = std::make_shared<HttpSession<TlsStream>>(
        TlsStream(beast::tcp_stream(std::move(socket)), *state->ssl), state, std::move(ip));
    session->start();
  } else {
    auto session = std::make_shared<HttpSession<PlainStream>>(PlainStream(std::move(socket)), state,
                                                              std::move(ip));
    session->start();
  }
}

}  // namespace vigil::net
