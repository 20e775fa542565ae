// HTTP request/response types and Exchange: one request and its single response, shared by the
// session, the middleware chain and the handler. A handler may answer at once or keep the
// Exchange (it is a shared_ptr) and answer later from any thread.
#pragma once

#include <boost/beast/http.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/principal.h"
#include "core/status.h"
#include "net/body_budget.h"

namespace vigil::net {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

struct Route;
class Middleware;
class Exchange;

// A response body sent from a file as it goes out, a chunk at a time, instead of held in memory
// (model artifacts are up to hundreds of MiB). The descriptor is opened when the response is
// made, so the bytes stay readable even if the file is unlinked meanwhile.
struct FileBody {
  std::shared_ptr<const int> fd;  // closed when the last copy goes
  uint64_t offset = 0;
  uint64_t length = 0;
};
// Opens path for a FileBody of [offset, offset + length); kNotFound when it cannot be opened,
// kInvalidArgument when the range passes its end.
Expected<FileBody> open_file_body(const std::string& path, uint64_t offset, uint64_t length);

struct FieldError {
  std::string field;
  std::string message;
};

// application/problem+json: {"type","title","status","detail","errors"?}. Never carries
// internals (stack traces, SQL).
HttpResponse make_problem(http::status status, std::string_view detail,
                          const std::vector<FieldError>& errors = {},
                          std::string_view type = "about:blank");
HttpResponse make_json(http::status status, const boost::json::value& body);

// One percent-encoded component of a URL (a path segment, a query key or value), decoded by
// Boost.URL; with `plus_is_space` (queries and forms) '+' is a space. nullopt when an escape
// is invalid ("%zz", a lone "%"). Other bytes pass as they are: clients send {, |, [ raw.
std::optional<std::string> decode_component(std::string_view s, bool plus_is_space);
// The pairs of a query string or an application/x-www-form-urlencoded body, in order ("a" and
// "a=" both give an empty value). kMalformed for an invalid escape.
Expected<std::vector<std::pair<std::string, std::string>>> decode_query(std::string_view query);
// Whether every escape in a request target (path and query) is valid.
bool valid_target(std::string_view target);

struct HeadError {
  http::status status;
  std::string detail;
};
// What is wrong with a request head that parsed (RFC 9112): an HTTP/1.1 request without exactly
// one Host, or more than one Host on HTTP/1.0 (400); a transfer coding other than chunked, which
// would be ignored (501). nullopt when the head is acceptable.
std::optional<HeadError> head_error(const HttpRequest& request);

// Where a suspended exchange's middleware chain goes on (the connection; internal to net/).
class ChainRunner {
 public:
  virtual ~ChainRunner() = default;
  // Runs middleware `next` onwards and then the handler, on the connection's I/O thread.
  virtual void resume_chain(std::shared_ptr<Exchange> exchange, size_t next) = 0;
};

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  using Sink = std::function<void(HttpResponse&&, std::optional<FileBody>&&)>;

  Exchange(HttpRequest request, std::string remote_ip, std::string request_id, Sink sink);
  ~Exchange();  // answers 500 if nobody answered (a bug, logged)
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  const HttpRequest& request() const { return request_; }
  HttpRequest& mutable_request() { return request_; }
  std::string_view path() const { return path_; }        // target without the query
  std::string_view raw_query() const { return query_; }  // after '?', undecoded
  // Decoded query parameter (first occurrence); nullopt when absent.
  std::optional<std::string> query(std::string_view name) const;
  // Decoded path parameter by name; empty view when the route has no such parameter.
  std::string_view param(std::string_view name) const;

  const std::string& request_id() const { return request_id_; }
  const std::string& remote_ip() const { return remote_ip_; }
  std::chrono::steady_clock::time_point started() const { return started_; }
  // When the answer was given: read once, before the middleware's after() (which all use it).
  std::chrono::steady_clock::time_point finished() const { return finished_; }
  const Route* route() const { return route_; }
  const Principal* principal() const { return principal_ ? &*principal_ : nullptr; }
  void set_principal(Principal p) { principal_ = std::move(p); }

  // Answers the request; the first call wins, later calls are ignored. Thread-safe.
  void respond(HttpResponse response);
  // Answers with the response's status and fields and the file's bytes as the body; sets
  // Content-Length to file.length (the response's own body is ignored).
  void respond_file(HttpResponse response, FileBody file);
  void respond_json(http::status status, const boost::json::value& body);
  // JSON already written as text (bodies built by hand on hot paths).
  void respond_json_text(http::status status, std::string body);
  void respond_problem(http::status status, std::string_view detail,
                       const std::vector<FieldError>& errors = {});
  bool responded() const { return responded_.load(std::memory_order_acquire); }
  // The body's size in bytes: the body's, or the Content-Length of a file response.
  static uint64_t body_bytes(const HttpResponse& response);

  // After a middleware returned Flow::kSuspended: goes on with the next middleware and the
  // handler, on the connection's I/O thread. Call it once, from any thread, instead of
  // answering.
  void resume();

  // Set by the session before dispatch.
  // The chain's runner (it outlives the exchange: the sink keeps the connection alive) and the
  // middleware resume() continues with.
  void set_chain(ChainRunner* runner, size_t next) {
    runner_ = runner;
    next_middleware_ = next;
  }
  void set_route(const Route* route, std::vector<std::pair<std::string, std::string>> params);
  // Middleware whose after() sees the response (last first); must outlive the exchange.
  void set_middleware(const std::vector<Middleware*>* middleware) { middleware_ = middleware; }
  // Bytes of the request as received (head + body), for the audit log.
  size_t bytes_in() const { return bytes_in_; }
  void set_bytes_in(size_t n) { bytes_in_ = n; }
  // The body bytes this request holds in the server's budget, released when it is answered.
  void hold(BodyBudget::Reservation r) { body_reservation_ = std::move(r); }

 private:
  HttpRequest request_;
  std::string_view path_;
  std::string_view query_;
  std::string remote_ip_;
  std::string request_id_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point finished_;
  const Route* route_ = nullptr;
  std::vector<std::pair<std::string, std::string>> params_;
  std::optional<Principal> principal_;
  const std::vector<Middleware*>* middleware_ = nullptr;
  Sink sink_;
  ChainRunner* runner_ = nullptr;
  size_t next_middleware_ = 0;
  std::atomic<bool> responded_{false};
  size_t bytes_in_ = 0;
  BodyBudget::Reservation body_reservation_;

  void finish(HttpResponse response, std::optional<FileBody> file);
};

using Handler = std::function<void(const std::shared_ptr<Exchange>&)>;

}  // namespace vigil::net
