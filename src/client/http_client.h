// HttpClient: a small synchronous HTTP/1.1 client for the CLI, the reference agent and the
// integration tests. http and https (the server's certificate checked against the system's CAs
// or a given file, and its host name against the URL's); one kept-alive connection, reused
// while the server keeps it; a Bearer token on every request; a timeout on connecting and on
// every exchange; redirects are answers like any other, never followed. JSON helpers turn an
// answer that is not 2xx into a Status whose message a person can read (a problem+json
// answer's detail and the fields it names), and download_to_file streams a body to disk under
// a size cap.
//
// Not thread-safe: one client per thread. No exceptions: a transport failure is a Response
// with status 0 and `error`, or a Status (kUnavailable).
#pragma once

#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vigil::client {

// Where a server is: http[s]://host[:port][/base/path] (no user info, query or fragment).
struct Url {
  std::string scheme = "http";  // http | https
  std::string host;             // a name, or an IP address (IPv6 without brackets)
  uint16_t port = 80;
  std::string base_path;  // prefixed to every target; no trailing '/'; "" for none
  bool tls() const { return scheme == "https"; }
  // host[:port] as a Host header carries it.
  std::string authority() const;
};
Expected<Url> parse_url(std::string_view text);

struct ClientOptions {
  std::string token;  // sent as Authorization: Bearer, unless a request sets Authorization
  std::chrono::milliseconds connect_timeout{10'000};  // name lookup, TCP and TLS handshake
  // request(): the whole exchange; download_to_file(): each read of the body (a stall).
  std::chrono::milliseconds timeout{30'000};
  std::string ca_file;     // https: trust these PEM certificates instead of the system's
  bool verify_tls = true;  // https: false accepts any certificate (tests, at one's own risk)
  uint64_t max_response_bytes = 64 << 20;  // request(): larger bodies fail
  std::string user_agent = "vigil-client";
};

struct Response {
  int status = 0;                              // 0: no answer (`error` says why)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;
  bool keep_alive = false;
  bool ok() const { return status >= 200 && status < 300; }
  boost::json::value json() const;  // null when the body is not JSON
  std::string header(const std::string& lower_name) const;
};

// Ok for a 2xx answer. Otherwise what went wrong, for a person to read: a problem+json
// answer's detail and each field it names, else the status and the start of the body; a 3xx
// names where it points (redirects are not followed). Codes: 400, 415 kMalformed; 401
// kUnauthenticated; 403 kPermissionDenied; 404 kNotFound; 409 kConflict; 413, 429
// kResourceExhausted; other 4xx kInvalidArgument; 3xx kFailedPrecondition; 503 and no answer
// kUnavailable; other 5xx kInternal.
Status response_status(const Response& response);

struct Download {
  uint64_t bytes = 0;
  std::string sha256;  // lower-case hex, of what was written
  std::string content_type;
};

class HttpClient {
 public:
  HttpClient(Url url, ClientOptions options = {});
  virtual ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // A client of the server at `base_url`; kInvalidArgument for a URL it cannot use.
  static Expected<std::unique_ptr<HttpClient>> create(std::string_view base_url,
                                                      ClientOptions options = {});
  const Url& url() const { return url_; }

  // `target` is a path and query under the base path ("/api/v1/devices?limit=5"). A request
  // sent on a kept-alive connection the server has closed meanwhile (no byte of an answer
  // came back) is sent once more on a new one.
  Response request(boost::beast::http::verb method, const std::string& target,
                   const std::string& body = {},
                   const std::map<std::string, std::string>& headers = {});
  Response get(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    return request(boost::beast::http::verb::get, target, {}, headers);
  }

  // A JSON exchange: `body` (when not null) sent as application/json; the answer's JSON (null
  // for an empty 2xx body), or response_status() of an answer that is not 2xx.
  Expected<boost::json::value> call_json(boost::beast::http::verb method, const std::string& target,
                                         const boost::json::value& body = nullptr);
  Expected<boost::json::value> get_json(const std::string& target) {
    return call_json(boost::beast::http::verb::get, target);
  }

  // GETs `target` and streams a 2xx body into `path` (mode 0600): written to a temporary file
  // beside it, flushed to disk and renamed over `path` only when whole, so `path` is never
  // half-written and is left as it was on any failure. A body over `max_bytes` (announced or
  // as it arrives) is kResourceExhausted; an answer that is not 2xx is its response_status().
  Expected<Download> download_to_file(const std::string& target, const std::filesystem::path& path,
                                      uint64_t max_bytes);

 private:
  class Connection;
  std::string full_target(const std::string& target) const;

  Url url_;
  ClientOptions options_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace vigil::client
