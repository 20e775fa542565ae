#include "client/http_client.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "core/json_text.h"
#include "core/strings.h"

namespace vigil::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

std::string Url::authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls() ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

Expected<Url> parse_url(std::string_view text) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return invalid_field("url", "not an absolute URL: " + std::string(text));
  const boost::urls::url_view& u = *parsed;
  Url out;
  out.scheme = to_lower(u.scheme());
  if (out.scheme != "http" && out.scheme != "https") {
    return invalid_field("url", "must start with http:// or https://");
  }
  if (u.has_userinfo()) return invalid_field("url", "must carry no user or password");
  if (u.has_query()) return invalid_field("url", "must have no query");
  out.host = u.host_address();
  if (out.host.empty()) return invalid_field("url", "names no host");
  out.port = out.tls() ? 443 : 80;
  if (u.has_port() && !u.port().empty()) {
    auto port = parse_int<uint16_t>(u.port(), 1);
    if (!port) return invalid_field("url", "has no valid port");
    out.port = *port;
  }
  out.base_path = std::string(u.encoded_path());
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  return out;
}

json::value Response::json() const {
  boost::system::error_code ec;
  auto v = parse_json(body, ec);
  return ec ? json::value() : v;
}

std::string Response::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

ErrorCode code_of(int status) {
  switch (status) {
    case 400:
    case 415: return ErrorCode::kMalformed;
    case 401: return ErrorCode::kUnauthenticated;
    case 403: return ErrorCode::kPermissionDenied;
    case 404: return ErrorCode::kNotFound;
    case 409: return ErrorCode::kConflict;
    case 413:
    case 429: return ErrorCode::kResourceExhausted;
    case 503: return ErrorCode::kUnavailable;
    default: break;
  }
  if (status >= 400 && status < 500) return ErrorCode::kInvalidArgument;
  if (status >= 300 && status < 400) return ErrorCode::kFailedPrecondition;
  return ErrorCode::kInternal;
}

// A problem's detail, and each field it names that the detail does not already say.
std::string problem_text(const json::object& problem) {
  std::string text;
  if (const auto* detail = problem.if_contains("detail"); detail && detail->is_string()) {
    text = detail->as_string();
  } else if (const auto* title = problem.if_contains("title"); title && title->is_string()) {
    text = title->as_string();
  }
  const auto* errors = problem.if_contains("errors");
  if (!errors || !errors->is_array()) return text;
  std::string fields;
  for (const auto& e : errors->as_array()) {
    const auto* obj = e.if_object();
    if (!obj || !obj->contains("field") || !obj->at("field").is_string()) continue;
    std::string field(obj->at("field").as_string());
    std::string message;
    if (obj->contains("message") && obj->at("message").is_string()) {
      message = obj->at("message").as_string();
    }
    if (!message.empty() && text.find(field + " " + message) != std::string::npos) continue;
    fields += (fields.empty() ? "" : "; ") + field + ": " + message;
  }
  if (fields.empty()) return text;
  return text.empty() ? fields : text + " (" + fields + ")";
}

}  // namespace

Status response_status(const Response& r) {
  if (r.ok()) return {};
  if (r.status == 0) return unavailable(r.error.empty() ? "no answer" : r.error);
  std::string text;
  if (auto v = r.json(); v.is_object()) text = problem_text(v.as_object());
  if (r.status >= 300 && r.status < 400) {
    text = "the server answered " + std::to_string(r.status) + ", a redirect to '" +
           r.header("location") + "' (not followed: check the URL)";
  }
  if (text.empty()) {
    std::string start = r.body.substr(0, 200);
    for (char& c : start) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    std::string_view shown = trim(start);
    text = "HTTP " + std::to_string(r.status) + (shown.empty() ? "" : ": " + std::string(shown));
  }
  return {code_of(r.status), text};
}

// One connection to the server (plain or TLS) and the blocking calls over it. Every operation
// is asynchronous underneath, run to completion on this object's io_context, so the stream's
// expiry bounds it (Beast's timeouts apply to asynchronous operations only).
class HttpClient::Connection {
 public:
  Connection(const Url& url, const ClientOptions& options)
      : url_(url), options_(options), ssl_(asio::ssl::context::tls_client) {}

  bool is_open() const { return plain_.has_value() || tls_.has_value(); }
  void close() {
    beast::error_code ec;
    if (is_open()) lowest().socket().close(ec);
    tls_.reset();
    plain_.reset();
    buffer_.clear();
  }
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  beast::flat_buffer& buffer() { return buffer_; }

  // Writes `req` and reads the head of its answer into `parser` (made here, then `prepare`d),
  // connecting first when there is no connection. A kept-alive connection that turns out
  // closed before any byte of an answer came back is replaced, and the request sent once more.
  template <class Parser, class Prepare>
  Status send(http::request<http::string_body>& req, std::optional<Parser>& parser,
              Prepare prepare) {
    for (int attempt = 0;; ++attempt) {
      const bool reused = is_open();
      if (!reused) VIGIL_RETURN_IF_ERROR(open());
      parser.emplace();
      prepare(*parser);
      lowest().expires_after(options_.timeout);
      auto ec = on_stream([&](auto& s, auto h) { http::async_write(s, req, std::move(h)); });
      if (!ec) {
        ec = on_stream(
            [&](auto& s, auto h) { http::async_read_header(s, buffer_, *parser, std::move(h)); });
      }
      if (!ec) return {};
      const bool stale = reused && attempt == 0 && buffer_.size() == 0 && !parser->got_some() &&
                         ec != beast::error::timeout;
      close();
      if (!stale) return failure(ec);
    }
  }

  // Reads (more of) the answer whose head `send` read.
  template <class Parser>
  beast::error_code read(Parser& parser) {
    return on_stream([&](auto& s, auto h) { http::async_read(s, buffer_, parser, std::move(h)); });
  }

  Status failure(beast::error_code ec) const {
    if (ec == beast::error::timeout) {
      return unavailable("no answer from " + url_.authority() + " within " +
                         std::to_string(options_.timeout.count()) + " ms");
    }
    if (ec == http::error::body_limit)
      return {ErrorCode::kResourceExhausted, "the answer is too large"};
    return unavailable(url_.authority() + ": " + ec.message());
  }

 private:
  // Runs the asynchronous operation `start(stream, handler)` starts to completion.
  template <class Start>
  beast::error_code on_stream(Start start) {
    return run([&](auto h) {
      if (tls_) {
        start(*tls_, std::move(h));
      } else {
        start(*plain_, std::move(h));
      }
    });
  }
  template <class Start>
  beast::error_code run(Start start) {
    beast::error_code result = asio::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  Status open() {
    close();
    auto endpoints = resolve();
    if (!endpoints.ok()) return endpoints.status();
    plain_.emplace(ioc_);
    plain_->expires_after(options_.connect_timeout);
    auto ec = run([&](auto h) { plain_->async_connect(*endpoints, std::move(h)); });
    if (!ec && url_.tls()) ec = handshake();
    if (ec) {
      close();
      if (ec == beast::error::timeout) {
        return unavailable("cannot connect to " + url_.authority() + " within " +
                           std::to_string(options_.connect_timeout.count()) + " ms");
      }
      return unavailable("cannot connect to " + url_.authority() + ": " + ec.message());
    }
    return {};
  }

  Expected<tcp::resolver::results_type> resolve() {
    tcp::resolver resolver(ioc_);
    asio::steady_timer timer(ioc_, options_.connect_timeout);
    beast::error_code result = asio::error::would_block;
    tcp::resolver::results_type out;
    timer.async_wait([&](beast::error_code ec) {
      if (!ec) resolver.cancel();
    });
    resolver.async_resolve(url_.host, std::to_string(url_.port),
                           [&](beast::error_code ec, tcp::resolver::results_type r) {
                             result = ec;
                             out = std::move(r);
                             timer.cancel();
                           });
    ioc_.restart();
    ioc_.run();
    if (result) return unavailable("cannot resolve " + url_.host + ": " + result.message());
    return out;
  }

  beast::error_code handshake() {
    beast::error_code ec;
    if (!ssl_ready_) {
      if (!options_.ca_file.empty()) {
        ssl_.load_verify_file(options_.ca_file, ec);
      } else {
        ssl_.set_default_verify_paths(ec);
      }
      if (ec) return ec;
      ssl_ready_ = true;
    }
    beast::tcp_stream tcp = std::move(*plain_);
    plain_.reset();
    tls_.emplace(std::move(tcp), ssl_);
    boost::system::error_code not_ip;
    asio::ip::make_address(url_.host, not_ip);
    if (not_ip && !SSL_set_tlsext_host_name(tls_->native_handle(), url_.host.c_str())) {
      return asio::error::invalid_argument;
    }
    if (options_.verify_tls) {
      tls_->set_verify_mode(asio::ssl::verify_peer, ec);
      if (!ec) tls_->set_verify_callback(asio::ssl::host_name_verification(url_.host), ec);
      if (ec) return ec;
    } else {
      tls_->set_verify_mode(asio::ssl::verify_none, ec);
    }
    return run(
        [&](auto h) { tls_->async_handshake(asio::ssl::stream_base::client, std::move(h)); });
  }

  const Url& url_;
  const ClientOptions& options_;
  asio::io_context ioc_;
  asio::ssl::context ssl_;
  bool ssl_ready_ = false;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
};

HttpClient::HttpClient(Url url, ClientOptions options)
    : url_(std::move(url)),
      options_(std::move(options)),
      connection_(std::make_unique<Connection>(url_, options_)) {}

HttpClient::~HttpClient() = default;

Expected<std::unique_ptr<HttpClient>> HttpClient::create(std::string_view base_url,
                                                         ClientOptions options) {
  auto url = parse_url(base_url);
  if (!url.ok()) return url.status();
  return std::make_unique<HttpClient>(std::move(*url), std::move(options));
}

std::string HttpClient::full_target(const std::string& target) const {
  if (target.empty() || target[0] != '/') return url_.base_path + "/" + target;
  return url_.base_path + target;
}

namespace {

http::request<http::string_body> make_request(http::verb method, const std::string& target,
                                              const Url& url, const ClientOptions& options) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, url.authority());
  req.set(http::field::user_agent, options.user_agent);
  if (!options.token.empty()) req.set(http::field::authorization, "Bearer " + options.token);
  return req;
}

template <class Message>
void copy_headers(const Message& m, Response& out) {
  for (const auto& f : m) out.headers[to_lower(f.name_string())] = std::string(f.value());
  out.status = m.result_int();
  out.keep_alive = m.keep_alive();
}

}  // namespace

Response HttpClient::request(http::verb method, const std::string& target, const std::string& body,
                             const std::map<std::string, std::string>& headers) {
  auto req = make_request(method, full_target(target), url_, options_);
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == http::verb::post || method == http::verb::put ||
      method == http::verb::patch) {
    req.body() = body;
    req.prepare_payload();
  }
  Response out;
  std::optional<http::response_parser<http::string_body>> parser;
  Status sent = connection_->send(req, parser, [&](auto& p) {
    p.body_limit(options_.max_response_bytes);
    if (method == http::verb::head) p.skip(true);
  });
  beast::error_code ec;
  if (sent.ok() && !parser->is_done()) ec = connection_->read(*parser);
  if (!sent.ok() || ec) {
    connection_->close();
    out.error = sent.ok() ? connection_->failure(ec).message() : sent.message();
    return out;
  }
  auto& res = parser->get();
  copy_headers(res, out);
  out.body = std::move(res.body());
  if (!out.keep_alive) connection_->close();
  return out;
}

Expected<json::value> HttpClient::call_json(http::verb method, const std::string& target,
                                            const json::value& body) {
  std::map<std::string, std::string> headers{{"Accept", "application/json"}};
  std::string text;
  if (!body.is_null()) {
    headers["Content-Type"] = "application/json";
    text = json::serialize(body);
  }
  Response r = request(method, target, text, headers);
  if (Status s = response_status(r); !s.ok()) return s;
  if (r.body.empty()) return json::value(nullptr);
  boost::system::error_code ec;
  json::value v = parse_json(r.body, ec);
  if (ec) return internal_error("the server's answer is not JSON: " + ec.message());
  return v;
}

namespace {

// A file written whole or not at all: a temporary beside the target, renamed over it by
// commit(); removed on destruction otherwise.
class PartFile {
 public:
  explicit PartFile(const std::filesystem::path& target) : target_(target) {
    std::filesystem::path dir = target.parent_path().empty() ? "." : target.parent_path();
    temp_ = (dir / ("." + target.filename().string() + ".part-XXXXXX")).string();
    fd_ = ::mkstemp(temp_.data());
  }
  ~PartFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
  }
  bool ok() const { return fd_ >= 0; }
  bool write(const char* data, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_, data, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
  bool commit() {
    if (::fsync(fd_) != 0 || ::close(fd_) != 0) return false;
    fd_ = -1;
    if (::rename(temp_.c_str(), target_.c_str()) != 0) return false;
    committed_ = true;
    std::filesystem::path dir = target_.parent_path().empty() ? "." : target_.parent_path();
    if (int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY); d >= 0) {
      ::fsync(d);
      ::close(d);
    }
    return true;
  }

 private:
  std::filesystem::path target_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
};

std::string hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

Status too_large(uint64_t max_bytes) {
  return {ErrorCode::kResourceExhausted,
          "the download is larger than " + std::to_string(max_bytes) + " bytes"};
}

}  // namespace

Expected<Download> HttpClient::download_to_file(const std::string& target,
                                                const std::filesystem::path& path,
                                                uint64_t max_bytes) {
  auto req = make_request(http::verb::get, full_target(target), url_, options_);
  std::optional<http::response_parser<http::buffer_body>> parser;
  // The cap is checked here, not by the parser, so an error answer is read whatever its size.
  VIGIL_RETURN_IF_ERROR(connection_->send(req, parser, [](auto& p) { p.body_limit(boost::none); }));
  if (parser->get().result_int() < 200 || parser->get().result_int() >= 300) {
    http::response_parser<http::string_body> rest(std::move(*parser));
    rest.body_limit(64 * 1024);
    Response r;
    beast::error_code ec = rest.is_done() ? beast::error_code() : connection_->read(rest);
    connection_->close();
    if (ec) return connection_->failure(ec);
    copy_headers(rest.get(), r);
    r.body = std::move(rest.get().body());
    return response_status(r);
  }
  auto& p = *parser;
  if (p.content_length() && *p.content_length() > max_bytes) {
    connection_->close();
    return too_large(max_bytes);
  }
  PartFile file(path);
  if (!file.ok()) {
    connection_->close();
    return unavailable("cannot write beside " + path.string() + ": " + std::strerror(errno));
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!sha || EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr) != 1) {
    connection_->close();
    return internal_error("SHA-256 is not available");
  }
  Download out{.content_type = std::string(p.get()[http::field::content_type])};
  std::vector<char> chunk(64 * 1024);
  while (!p.is_done()) {
    p.get().body().data = chunk.data();
    p.get().body().size = chunk.size();
    connection_->lowest().expires_after(options_.timeout);  // a stall, not the whole download
    beast::error_code ec = connection_->read(p);
    if (ec == http::error::need_buffer) ec = {};
    const size_t n = chunk.size() - p.get().body().size;
    out.bytes += n;
    Status failed;
    if (ec) {
      failed = connection_->failure(ec);
    } else if (out.bytes > max_bytes) {
      failed = too_large(max_bytes);
    } else if (!file.write(chunk.data(), n)) {
      failed = unavailable("cannot write " + path.string() + ": " + std::strerror(errno));
    }
    if (!failed.ok()) {
      connection_->close();
      return failed;
    }
    EVP_DigestUpdate(sha.get(), chunk.data(), n);
  }
  if (!p.keep_alive()) connection_->close();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(sha.get(), digest, &len);
  out.sha256 = hex(digest, len);
  if (!file.commit()) {
    return unavailable("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  return out;
}

}  // namespace vigil::client
