// TLS: with a certificate and key configured, the same routes are served over HTTPS, and a
// client that speaks plain HTTP to the TLS port is dropped without harming the server.
#include <gtest/gtest.h>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <cstdlib>

#include "support/http_client.h"
#include "support/test_app.h"

namespace vigil {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

// A self-signed certificate for the name localhost (only) in `dir`: cert.pem, key.pem.
bool make_certificate(const std::filesystem::path& dir) {
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext "
      "subjectAltName=DNS:localhost -days 1 -keyout " +
      (dir / "key.pem").string() + " -out " + (dir / "cert.pem").string() + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// A TestApp serving https with a fresh certificate for localhost; its files go with it.
struct TlsApp {
  std::filesystem::path dir = testing::make_temp_dir("vigil-tls-");
  std::string cert = (dir / "cert.pem").string();
  bool made = make_certificate(dir);
  std::unique_ptr<testing::TestApp> app;

  TlsApp() {
    if (made) {
      app = std::make_unique<testing::TestApp>(testing::Settings{
          {"server.tls_cert", cert}, {"server.tls_key", (dir / "key.pem").string()}});
    }
  }
  ~TlsApp() {
    app.reset();
    std::filesystem::remove_all(dir);
  }
  uint16_t port() const { return app->port(); }
};

TEST(TlsTest, ServesHttpsWithTheConfiguredCertificate) {
  TlsApp t;
  ASSERT_TRUE(t.made) << "openssl could not make a test certificate";
  const std::string& cert = t.cert;

  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  ctx.load_verify_file(cert);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  beast::get_lowest_layer(stream).connect({asio::ip::make_address("127.0.0.1"), t.port()});
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  stream.handshake(asio::ssl::stream_base::client);
  http::request<http::empty_body> req{http::verb::get, "/healthz", 11};
  req.set(http::field::host, "localhost");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"status":"ok"})");
  beast::error_code ec;
  stream.shutdown(ec);

  // Plain HTTP to the TLS port: the handshake fails and the connection is closed.
  testing::RawConnection plain(t.port());
  plain.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(plain.closed_within(3s));
}

// The client library (src/client) over https: the certificate is checked against the given CA
// file and the URL's host name; an unknown certificate, or another name, is refused unless
// checking is turned off.
TEST(TlsTest, TheClientLibraryChecksTheServersCertificate) {
  TlsApp t;
  ASSERT_TRUE(t.made) << "openssl could not make a test certificate";
  const std::string& cert = t.cert;
  const std::string port = std::to_string(t.port());
  auto get = [&](const std::string& url, client::ClientOptions options) {
    auto c = client::HttpClient::create(url, std::move(options));
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? (*c)->get("/healthz") : client::Response{};
  };
  auto ok = get("https://localhost:" + port, {.ca_file = cert});
  EXPECT_EQ(ok.status, 200) << ok.error;
  EXPECT_EQ(ok.body, R"({"status":"ok"})");
  auto unknown = get("https://localhost:" + port, {});
  EXPECT_EQ(unknown.status, 0);
  EXPECT_NE(unknown.error.find("certificate verify failed"), std::string::npos) << unknown.error;
  auto other_name = get("https://127.0.0.1:" + port, {.ca_file = cert});
  EXPECT_EQ(other_name.status, 0);
  EXPECT_NE(other_name.error.find("certificate verify failed"), std::string::npos)
      << other_name.error;
  EXPECT_EQ(get("https://127.0.0.1:" + port, {.verify_tls = false}).status, 200);
}

// Under TLS the session cookie is Secure: a browser never sends it over plain HTTP.
TEST(TlsTest, TheSessionCookieIsSecureOverHttps) {
  TlsApp t;
  ASSERT_TRUE(t.made) << "openssl could not make a test certificate";
  auto c = client::HttpClient::create("https://localhost:" + std::to_string(t.port()),
                                      {.ca_file = t.cert});
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  auto login = (*c)->request(http::verb::post, "/api/v1/auth/login",
                             R"({"email":"admin@localhost","password":"admin-password-1"})",
                             {{"Content-Type", "application/json"}});
  ASSERT_EQ(login.status, 200) << login.body << login.error;
  std::string cookie = login.header("set-cookie");
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
}

TEST(TlsTest, UnreadableCertificateStopsStartUp) {
  auto dir = testing::make_temp_dir("vigil-tls-");
  auto config = testing::test_config(dir, {{"server.port", "0"},
                                           {"server.tls_cert", (dir / "missing.pem").string()},
                                           {"server.tls_key", (dir / "missing.key").string()}});
  ASSERT_TRUE(config.ok());
  auto app = app::App::create(*config);
  ASSERT_TRUE(app.ok());
  Status s = (*app)->start();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("missing.pem"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil
