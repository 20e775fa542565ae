// HttpClient against a tiny loopback server whose answers each test scripts: tokens, base
// paths and one kept-alive connection; readable errors from problem+json; redirects returned,
// not followed; timeouts; a stale kept-alive connection replaced once; downloads streamed to a
// file under a cap. HTTPS is tested against the real server (tests/integration/tls_test.cpp).
#include "client/http_client.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "core/ids.h"
#include "support/temp_db.h"

namespace vigil::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

using Request = http::request<http::string_body>;
using Reply = http::response<http::string_body>;

// A loopback server on its own thread: accepts one connection at a time and answers each
// request on it with `answer(request)`; a null reply means: close without answering. With
// `close_after_answer` it closes each connection after one answer, whatever the answer says.
class TinyServer {
 public:
  using Answer = std::function<std::optional<Reply>(const Request&)>;
  explicit TinyServer(Answer answer, bool close_after_answer = false)
      : answer_(std::move(answer)), close_after_answer_(close_after_answer), acceptor_(ioc_) {
    tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(at.protocol());
    acceptor_.bind(at);
    acceptor_.listen();
    thread_ = std::thread([this] { run(); });
  }
  ~TinyServer() {
    stopping_ = true;
    beast::error_code ec;
    tcp::socket wake(ioc_);
    wake.connect({asio::ip::make_address("127.0.0.1"), port()}, ec);
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }

 private:
  void run() {
    while (true) {
      tcp::socket socket(ioc_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_ || ec) return;
      ++connections_;
      serve(socket);
    }
  }
  void serve(tcp::socket& socket) {
    beast::flat_buffer buffer;
    while (true) {
      Request req;
      beast::error_code ec;
      http::read(socket, buffer, req, ec);
      if (ec) return;
      ++requests_;
      auto reply = answer_(req);
      if (!reply) return;
      reply->version(11);
      reply->prepare_payload();
      http::write(socket, *reply, ec);
      if (ec || !reply->keep_alive() || close_after_answer_) return;
    }
  }

  Answer answer_;
  bool close_after_answer_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
};

Reply reply(http::status status, std::string body, std::string type = "application/json") {
  Reply r{status, 11};
  r.set(http::field::content_type, type);
  r.body() = std::move(body);
  return r;
}

std::string url_of(const TinyServer& s, const std::string& path = "") {
  return "http://127.0.0.1:" + std::to_string(s.port()) + path;
}

std::unique_ptr<HttpClient> client_of(const std::string& url, ClientOptions options = {}) {
  auto c = HttpClient::create(url, std::move(options));
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return c.ok() ? std::move(*c) : nullptr;
}

TEST(HttpClientTest, BaseUrlsAreParsed) {
  auto u = parse_url("http://example.com");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->base_path, "");
  EXPECT_EQ(u->authority(), "example.com");
  u = parse_url("HTTPS://vigil.example.com/prefix/");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls());
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->base_path, "/prefix");
  u = parse_url("http://[::1]:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->authority(), "[::1]:8080");
  for (const char* bad : {"ftp://example.com", "example.com:8080", "http://", "http://u:p@h/",
                          "http://h/?q=1", "http://h:99999", "http://h:0", "not a url"}) {
    EXPECT_EQ(parse_url(bad).status().field(), "url") << bad;
  }
}

TEST(HttpClientTest, RequestsCarryTheTokenAndBasePathOnOneConnection) {
  TinyServer server([](const Request& req) -> std::optional<Reply> {
    json::object seen{{"method", std::string(req.method_string())},
                      {"target", std::string(req.target())},
                      {"authorization", std::string(req[http::field::authorization])},
                      {"host", std::string(req[http::field::host])},
                      {"type", std::string(req[http::field::content_type])},
                      {"body", req.body()}};
    return reply(http::status::ok, json::serialize(seen));
  });
  auto c = client_of(url_of(server, "/base/"), {.token = "t0k"});
  ASSERT_TRUE(c);
  auto got = c->get_json("/api/x?y=1");
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->at("method"), "GET");
  EXPECT_EQ(got->at("target"), "/base/api/x?y=1");
  EXPECT_EQ(got->at("authorization"), "Bearer t0k");
  EXPECT_EQ(got->at("host"), json::value("127.0.0.1:" + std::to_string(server.port())));
  auto posted = c->call_json(http::verb::post, "/y", json::object{{"a", 1}});
  ASSERT_TRUE(posted.ok()) << posted.status().to_string();
  EXPECT_EQ(posted->at("type"), "application/json");
  EXPECT_EQ(posted->at("body"), R"({"a":1})");
  auto own = c->request(http::verb::get, "/z", "", {{"Authorization", "Basic eDp5"}});
  EXPECT_EQ(own.json().at("authorization"), "Basic eDp5");
  EXPECT_TRUE(own.keep_alive);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpClientTest, AnswersThatAreNotOkBecomeReadableStatuses) {
  TinyServer server([](const Request& req) -> std::optional<Reply> {
    const std::string t(req.target());
    if (t == "/fields") {
      return reply(http::status::unprocessable_entity,
                   R"({"type":"about:blank","status":422,"detail":"invalid query parameters",)"
                   R"("errors":[{"field":"state","message":"must be active"},)"
                   R"({"field":"since","message":"must be a time"}]})",
                   "application/problem+json");
    }
    if (t == "/said") {
      return reply(http::status::unprocessable_entity,
                   R"({"detail":"invalid values: name is required",)"
                   R"("errors":[{"field":"name","message":"is required"}]})",
                   "application/problem+json");
    }
    if (t == "/missing") {
      return reply(http::status::not_found, R"({"status":404,"detail":"no device named x"})");
    }
    if (t == "/boom") return reply(http::status::internal_server_error, "boom\n", "text/plain");
    if (t == "/busy") return reply(http::status::service_unavailable, "");
    if (t == "/empty") return reply(http::status::no_content, "");
    Reply moved = reply(http::status::found, "");
    moved.set(http::field::location, "https://elsewhere.example/");
    return moved;
  });
  auto c = client_of(url_of(server));
  ASSERT_TRUE(c);
  Status s = c->get_json("/fields").status();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "invalid query parameters (state: must be active; since: must be a time)");
  s = c->get_json("/said").status();
  EXPECT_EQ(s.message(), "invalid values: name is required");  // fields it says are not repeated
  s = c->get_json("/missing").status();
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.message(), "no device named x");
  s = c->get_json("/boom").status();
  EXPECT_EQ(s.code(), ErrorCode::kInternal);
  EXPECT_EQ(s.message(), "HTTP 500: boom");
  EXPECT_EQ(c->get_json("/busy").status().code(), ErrorCode::kUnavailable);
  auto empty = c->call_json(http::verb::post, "/empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->is_null());

  const int before = server.requests();
  auto moved = c->get("/moved");
  EXPECT_EQ(moved.status, 302);  // returned as it is: not followed
  EXPECT_EQ(server.requests(), before + 1);
  s = response_status(moved);
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("https://elsewhere.example/"), std::string::npos) << s.message();
}

TEST(HttpClientTest, ASilentServerTimesOutAndAClosedPortFails) {
  TinyServer silent([](const Request&) -> std::optional<Reply> {
    std::this_thread::sleep_for(1s);
    return std::nullopt;
  });
  auto c = client_of(url_of(silent), {.timeout = 200ms});
  ASSERT_TRUE(c);
  auto r = c->get("/");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("within 200 ms"), std::string::npos) << r.error;
  EXPECT_EQ(response_status(r).code(), ErrorCode::kUnavailable);

  uint16_t closed = 0;
  {
    TinyServer gone([](const Request&) { return std::optional<Reply>(); });
    closed = gone.port();
  }
  auto refused = client_of("http://127.0.0.1:" + std::to_string(closed));
  ASSERT_TRUE(refused);
  r = refused->get("/");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("cannot connect"), std::string::npos) << r.error;
}

// The server closes the connection after its answer, without saying so: the next request goes
// out once more, on a new connection. A fresh connection closed without an answer is an error,
// and the request is not sent again.
TEST(HttpClientTest, AKeptAliveConnectionTheServerClosedIsReplacedOnce) {
  TinyServer server(
      [](const Request& req) -> std::optional<Reply> {
        if (req.target() == "/drop") return std::nullopt;
        return reply(http::status::ok, "{}");
      },
      /*close_after_answer=*/true);
  auto c = client_of(url_of(server));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->get("/a").status, 200);
  auto b = c->get("/b");
  EXPECT_EQ(b.status, 200) << b.error;
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.requests(), 2);
  auto fresh = client_of(url_of(server));
  ASSERT_TRUE(fresh);
  auto r = fresh->get("/drop");
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpClientTest, ResponsesOverTheLimitFail) {
  TinyServer server([](const Request&) {
    return std::optional(reply(http::status::ok, std::string(5000, 'x')));
  });
  auto c = client_of(url_of(server), {.max_response_bytes = 4096});
  ASSERT_TRUE(c);
  auto r = c->get("/");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("too large"), std::string::npos) << r.error;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(HttpClientTest, DownloadsStreamToAFileUnderACap) {
  std::string payload(300 * 1024, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7 % 251);
  TinyServer server([&](const Request& req) -> std::optional<Reply> {
    if (req.target() == "/missing") {
      return reply(http::status::not_found, R"({"detail":"no such version"})");
    }
    Reply r = reply(http::status::ok, payload, "application/octet-stream");
    if (req.target() == "/chunked") r.chunked(true);
    return r;
  });
  auto dir = vigil::testing::make_temp_dir("vigil-client-");
  ASSERT_FALSE(dir.empty());
  auto c = client_of(url_of(server));
  ASSERT_TRUE(c);

  for (const char* target : {"/file", "/chunked"}) {
    auto got = c->download_to_file(target, dir / "model.bin", 1 << 20);
    ASSERT_TRUE(got.ok()) << target << " " << got.status().to_string();
    EXPECT_EQ(got->bytes, payload.size());
    EXPECT_EQ(got->sha256, sha256_hex(payload));
    EXPECT_EQ(got->content_type, "application/octet-stream");
    EXPECT_EQ(slurp(dir / "model.bin"), payload);
  }

  std::ofstream(dir / "keep.bin") << "old";
  // Announced too large (Content-Length), then found too large as it arrives (chunked).
  for (const char* target : {"/file", "/chunked"}) {
    auto s = c->download_to_file(target, dir / "keep.bin", 100 * 1024).status();
    EXPECT_EQ(s.code(), ErrorCode::kResourceExhausted) << target << " " << s.to_string();
    EXPECT_EQ(slurp(dir / "keep.bin"), "old");
  }
  auto missing = c->download_to_file("/missing", dir / "keep.bin", 1 << 20).status();
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.message(), "no such version");
  EXPECT_EQ(slurp(dir / "keep.bin"), "old");
  auto nowhere = c->download_to_file("/file", dir / "no-dir" / "x.bin", 1 << 20).status();
  EXPECT_EQ(nowhere.code(), ErrorCode::kUnavailable);

  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().filename().string().find(".part-"), std::string::npos) << e.path();
  }
  EXPECT_EQ(files, 2);                     // model.bin, keep.bin: no temporaries left behind
  EXPECT_EQ(c->get("/file").status, 200);  // the client goes on after every failure
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil::client
