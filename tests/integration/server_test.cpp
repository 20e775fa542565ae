// The server core end to end: operations endpoints, problem+json errors, limits, slow
// clients, keep-alive, WebSocket upgrade and graceful shutdown — each followed by a check that
// the server still serves.
#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/beast/websocket.hpp>

#include <future>
#include <thread>

#include "support/http_client.h"
#include "support/test_app.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using testing::HttpClient;
using testing::RawConnection;
using testing::TestApp;
using Settings = std::vector<std::pair<std::string, std::string>>;
namespace http = boost::beast::http;

void expect_still_serving(uint16_t port) {
  HttpClient client(port);
  auto r = client.get("/healthz");
  EXPECT_EQ(r.status, 200) << "server stopped serving: " << r.error;
}

void expect_problem(const testing::HttpResult& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  auto j = r.json();
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j.at("status").as_int64(), status);
  EXPECT_TRUE(j.as_object().contains("title"));
  EXPECT_TRUE(j.as_object().contains("type"));
  EXPECT_TRUE(j.as_object().contains("detail"));
}

TEST(ServerTest, HealthReadyAndRequestIds) {
  TestApp t;
  HttpClient client(t.port());
  auto h = client.get("/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, R"({"status":"ok"})");
  EXPECT_EQ(h.header("x-request-id").size(), 15u);

  auto echoed = client.get("/healthz", {{"X-Request-Id", "my-trace-42"}});
  EXPECT_EQ(echoed.header("x-request-id"), "my-trace-42");
  const std::string longest(128, 'a');
  EXPECT_EQ(client.get("/healthz", {{"X-Request-Id", longest}}).header("x-request-id"), longest);
  // One that cannot be echoed or logged as sent is refused, under an id of the server's.
  for (const std::string& bad : {std::string(10 * 1024, 'a'), std::string("two words")}) {
    auto refused = client.get("/healthz", {{"X-Request-Id", bad}});
    expect_problem(refused, 400);
    EXPECT_NE(refused.body.find("X-Request-Id"), std::string::npos) << refused.body;
    EXPECT_EQ(refused.header("x-request-id").size(), 15u);
  }

  auto r = client.get("/readyz");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json().at("checks").at("database").as_string(), "ok");
  EXPECT_EQ(r.json().at("checks").at("migrations").as_string(), "ok");
}

TEST(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  TestApp t;
  HttpClient client(t.port());
  for (int i = 0; i < 50; ++i) {
    auto r = client.get("/healthz");
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(r.keep_alive);
  }
}

TEST(ServerTest, HeadHasNoBodyButALength) {
  TestApp t;
  HttpClient client(t.port());
  auto r = client.request(http::verb::head, "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.header("content-length"), "15");
}

// The response head is written by hand (http_session.cpp): check the bytes on the wire.
TEST(ServerTest, ResponsesAreWellFormedOnTheWire) {
  TestApp t;
  // HTTP/1.0 without keep-alive: a 1.0 status line, the length, and the connection closes.
  RawConnection old(t.port());
  old.send("GET /healthz HTTP/1.0\r\n\r\n");
  std::string r10 = old.read_all(2s);
  EXPECT_TRUE(r10.starts_with("HTTP/1.0 200 OK\r\n")) << r10;
  EXPECT_NE(r10.find("\r\nContent-Length: 15\r\n"), std::string::npos) << r10;
  EXPECT_TRUE(r10.ends_with("\r\n\r\n{\"status\":\"ok\"}")) << r10;

  // Two pipelined HTTP/1.1 requests, the second asking to close: two whole responses in order.
  RawConnection pipe(t.port());
  pipe.send(
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /api/no/such HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string both = pipe.read_all(2s);
  auto second = both.find("HTTP/1.1 404 Not Found\r\n");
  ASSERT_NE(second, std::string::npos) << both;
  std::string first = both.substr(0, second);
  EXPECT_TRUE(first.starts_with("HTTP/1.1 200 OK\r\n")) << first;
  EXPECT_TRUE(first.ends_with("\r\n\r\n{\"status\":\"ok\"}")) << first;
  EXPECT_EQ(first.find("Connection:"), std::string::npos) << first;  // 1.1 keeps alive by default
  std::string last = both.substr(second);
  EXPECT_NE(last.find("\r\nConnection: close\r\n"), std::string::npos) << last;
  EXPECT_NE(last.find("\r\nContent-Type: application/problem+json\r\n"), std::string::npos);
  auto body = last.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  auto length = last.find("\r\nContent-Length: ");
  ASSERT_NE(length, std::string::npos) << last;
  EXPECT_EQ(std::stoul(last.substr(length + 18)), last.size() - body - 4) << last;
}

TEST(ServerTest, MetricsCountRequestsByRouteAndStatus) {
  TestApp t;
  HttpClient client(t.port());
  client.get("/healthz");
  client.get("/healthz");
  client.get("/api/no/such/thing");
  auto m = client.get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(
      m.body.find(R"(vigil_http_requests_total{route="/healthz",method="GET",status="200"} 2)"),
      std::string::npos)
      << m.body;
  EXPECT_NE(
      m.body.find(R"(vigil_http_requests_total{route="unmatched",method="any",status="404"} 1)"),
      std::string::npos);
  EXPECT_NE(m.body.find("vigil_http_request_duration_seconds_bucket{route=\"/healthz\""),
            std::string::npos);
}

TEST(ServerTest, OpenApiAndDocs) {
  TestApp t;
  HttpClient client(t.port());
  auto o = client.get("/openapi.json");
  ASSERT_EQ(o.status, 200);
  auto doc = o.json();
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");
  const auto& paths = doc.at("paths").as_object();
  for (const char* p : {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"}) {
    EXPECT_TRUE(paths.contains(p)) << p;
  }
  EXPECT_FALSE(paths.contains("/docs/{file*}"));

  auto d = client.get("/docs");
  EXPECT_EQ(d.status, 200);
  EXPECT_NE(d.body.find("swagger-ui"), std::string::npos);
  auto css = client.get("/docs/swagger-ui.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.header("content-type"), "text/css; charset=utf-8");
  EXPECT_GT(css.body.size(), 1000u);
  expect_problem(client.get("/docs/nope.js"), 404);
}

TEST(ServerTest, UnknownRouteAndWrongMethodAreProblems) {
  TestApp t;
  HttpClient client(t.port());
  expect_problem(client.get("/api/v1/nothing-here"), 404);
  auto r = client.request(http::verb::delete_, "/healthz");
  expect_problem(r, 405);
  EXPECT_EQ(r.header("allow"), "GET");
}

// RFC 9112: HTTP/1.1 needs exactly one Host (400 otherwise), and a transfer coding the server
// would ignore is 501, not silently dropped.
TEST(ServerTest, HostAndTransferCodingsAreChecked) {
  TestApp t;
  for (const char* head :
       {"GET /healthz HTTP/1.1\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}) {
    RawConnection raw(t.port());
    raw.send(head);
    EXPECT_EQ(testing::status_of(raw.read_all(2s)), 400) << head;
  }
  RawConnection gzip(t.port());
  gzip.send(
      "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(testing::status_of(gzip.read_all(2s)), 501);
  RawConnection http10(t.port());
  http10.send("GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(testing::status_of(http10.read_all(2s)), 200);
  RawConnection chunked(t.port());
  chunked.send(
      "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(testing::status_of(chunked.read_all(2s)), 422);  // read, parsed, fields missing
  expect_still_serving(t.port());
}

// Path and query components are decoded by Boost.URL; an invalid percent-escape anywhere in
// the target is a 400 before any route runs, and a valid target with raw { } | still routes.
TEST(ServerTest, InvalidEscapesInTheTargetGet400) {
  TestApp t;
  HttpClient client(t.port());
  expect_problem(client.get("/healthz?x=%zz"), 400);
  expect_problem(client.get("/api/v1/models/a%2"), 400);
  EXPECT_EQ(client.get("/healthz?x=%41&y={z}|").status, 200);
  EXPECT_EQ(client.get("/api/v1/models/na%6De").status, 401);  // routed, then refused
}

TEST(ServerTest, MalformedRequestGets400AndServerLives) {
  TestApp t;
  RawConnection raw(t.port());
  raw.send("THIS IS NOT HTTP\r\n\r\n");
  auto response = raw.read_all(2s);
  EXPECT_EQ(testing::status_of(response), 400) << response;
  EXPECT_NE(response.find("application/problem+json"), std::string::npos);

  RawConnection bad_header(t.port());
  bad_header.send("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n");
  EXPECT_EQ(testing::status_of(bad_header.read_all(2s)), 400);

  RawConnection binary(t.port());
  binary.send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
  binary.read_all(1s);
  expect_still_serving(t.port());
}

TEST(ServerTest, OversizedHeadGets431) {
  TestApp t(Settings{{"server.max_header_bytes", "2048"}});
  RawConnection raw(t.port());
  raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n");
  auto response = raw.read_all(2s);
  EXPECT_EQ(testing::status_of(response), 431) << response;
  expect_still_serving(t.port());
}

TEST(ServerTest, OversizedBodyGets413) {
  TestApp t(Settings{{"server.max_body_bytes", "1000"}});
  // Declared too large: refused before the body is read.
  RawConnection declared(t.port());
  declared.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
  auto response = declared.read_all(2s);
  EXPECT_EQ(testing::status_of(response), 413) << response;
  // Chunked and growing past the limit.
  RawConnection chunked(t.port());
  std::string chunk(800, 'x');
  chunked.send("POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  chunked.send("320\r\n" + chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(testing::status_of(chunked.read_all(2s)), 413);
  expect_still_serving(t.port());
}

// A client that goes on sending a body the server refused still reads the refusal: the server
// drains what arrives before it closes (closing with unread bytes would answer them with a
// reset, and the client could lose the 413 before reading it).
TEST(ServerTest, ARefusedBodyThatKeepsComingStillGetsItsAnswer) {
  TestApp t(Settings{{"server.max_body_bytes", "1000"}});
  const std::string body(16 << 20, 'x');  // more than the socket buffers hold
  RawConnection raw(t.port());
  ASSERT_TRUE(raw.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body));
  auto response = raw.read_all(5s);
  EXPECT_EQ(testing::status_of(response), 413) << response.substr(0, 300);
  expect_still_serving(t.port());
}

TEST(ServerTest, SlowClientsGet408AndAreDisconnected) {
  TestApp t(Settings{{"server.header_timeout_ms", "300"}, {"server.body_timeout_ms", "300"}});
  // Slowloris: starts a head and never finishes it.
  RawConnection slow_head(t.port());
  slow_head.send("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  auto response = slow_head.read_all(3s);
  EXPECT_EQ(testing::status_of(response), 408) << response;
  // A body that never arrives.
  RawConnection slow_body(t.port());
  slow_body.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
  EXPECT_EQ(testing::status_of(slow_body.read_all(3s)), 408);
  expect_still_serving(t.port());
}

TEST(ServerTest, IdleKeepAliveConnectionsAreClosed) {
  TestApp t(Settings{{"server.idle_timeout_ms", "200"}});
  RawConnection idle(t.port());
  EXPECT_TRUE(idle.closed_within(3s));
  expect_still_serving(t.port());
}

TEST(ServerTest, ConnectionsOverTheLimitAreRefused) {
  TestApp t(Settings{{"server.max_connections", "2"}});
  RawConnection a(t.port());
  RawConnection b(t.port());
  a.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  b.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(testing::status_of(a.read_all(300ms)), 200);
  RawConnection c(t.port());
  EXPECT_TRUE(c.closed_within(2s));
}

class EchoEndpoint : public net::WsEndpoint {
 public:
  void on_message(const std::shared_ptr<net::WsConnection>& conn, std::string_view text) override {
    conn->send("echo:" + std::string(text));
  }
};

TEST(ServerTest, WebSocketUpgradeAndEcho) {
  TestApp t({}, /*start_now=*/false);
  t.app().router().add_websocket("/test/ws",
                                 {.summary = "echo", .action = "public", .hidden = true},
                                 std::make_shared<EchoEndpoint>());
  t.start();

  boost::asio::io_context ioc;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws(ioc);
  ws.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), t.port()});
  ws.handshake("127.0.0.1", "/test/ws");
  ws.write(boost::asio::buffer(std::string("hello")));
  boost::beast::flat_buffer buffer;
  ws.read(buffer);
  EXPECT_EQ(boost::beast::buffers_to_string(buffer.data()), "echo:hello");
  ws.close(boost::beast::websocket::close_code::normal);

  HttpClient client(t.port());
  expect_problem(client.get("/test/ws"), 426);
}

TEST(ServerTest, GracefulShutdownFinishesInFlightRequests) {
  TestApp t({}, /*start_now=*/false);
  t.app().router().add(http::verb::get, "/test/slow",
                       {.summary = "slow", .action = "public", .hidden = true},
                       [](const std::shared_ptr<net::Exchange>& ex) {
                         std::thread([ex] {
                           std::this_thread::sleep_for(400ms);
                           ex->respond_json(http::status::ok, {{"done", true}});
                         }).detach();
                       });
  t.start();
  uint16_t port = t.port();
  auto in_flight = std::async(std::launch::async, [port] {
    HttpClient client(port);
    return client.get("/test/slow");
  });
  std::this_thread::sleep_for(100ms);
  auto stopped = std::async(std::launch::async, [&t] { t.stop(); });
  auto r = in_flight.get();
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("connection"), "close");
  stopped.get();
  HttpClient after(port);
  EXPECT_EQ(after.get("/healthz").status, 0);  // nobody listens any more
}

TEST(ServerTest, FirstAdminIsCreatedOnce) {
  auto dir = testing::make_temp_dir();
  auto config = testing::test_config(dir);
  ASSERT_TRUE(config.ok());
  {
    auto first = app::App::create(*config);
    ASSERT_TRUE(first.ok()) << first.status().to_string();
    EXPECT_TRUE((*first)->first_admin().created);
    EXPECT_EQ((*first)->first_admin().email, "admin@localhost");
    EXPECT_EQ((*first)->first_admin().generated_password.size(), 16u);
  }
  {
    auto second = app::App::create(*config);
    ASSERT_TRUE(second.ok());
    EXPECT_FALSE((*second)->first_admin().created);
    auto n = (*second)->database().query("SELECT COUNT(*) FROM users");
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n->get_int(0, 0), 1);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil
