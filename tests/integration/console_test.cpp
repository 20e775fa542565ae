// The web console at `/` (files given to the app as the vigil binary gives its embedded web/dist)
// and the cookie session the console signs in with: the console's security headers, the
// single-page fallback that leaves the API's paths alone, "not built", and the cross-site
// request rules for cookie-authenticated writes.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <zlib.h>

#include "support/http_client.h"
#include "support/test_app.h"

namespace vigil {
namespace {

namespace http = boost::beast::http;
using testing::HttpClient;
using testing::HttpResult;
using Headers = std::map<std::string, std::string>;

constexpr std::string_view kIndex = "<!doctype html><title>Vigil</title><div id=app></div>";
// A script large enough to be worth compressing (over 1 KiB).
const std::string kBigScript = [] {
  std::string s;
  for (int i = 0; i < 200; ++i) s += "console.log(" + std::to_string(i) + ");\n";
  return s;
}();

const embedded::File kFiles[] = {
    {"index.html", "text/html; charset=utf-8", kIndex},
    {"assets/index-3f9a1c.js", "text/javascript; charset=utf-8", "console.log(1)"},
    {"favicon.svg", "image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'/>"},
    {"assets/big-5e6f7a.js", "text/javascript; charset=utf-8", kBigScript},
};

std::string gunzip(const std::string& in) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return {};
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string("(not gzip)");
}

void expect_console_headers(const HttpResult& r, const std::string& what) {
  std::string csp = r.header("content-security-policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << what << ": " << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << what << ": " << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << what << ": " << csp;
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << what << ": " << csp;
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << what;
  EXPECT_EQ(r.header("x-frame-options"), "DENY") << what;
}

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = std::make_unique<testing::TestApp>(testing::Settings{}, true,
                                              app::AppOptions{.console = kFiles});
    client_ = std::make_unique<HttpClient>(app_->port());
  }
  std::unique_ptr<testing::TestApp> app_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ConsoleTest, ServesItsFilesWithSecurityHeaders) {
  auto index = client_->get("/");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.body, kIndex);
  EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.header("cache-control"), "no-cache");
  expect_console_headers(index, "/");

  auto script = client_->get("/assets/index-3f9a1c.js");
  ASSERT_EQ(script.status, 200);
  EXPECT_EQ(script.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(script.header("cache-control"), "public, max-age=31536000, immutable");
  expect_console_headers(script, "asset");

  auto icon = client_->get("/favicon.svg");
  EXPECT_EQ(icon.status, 200);
  EXPECT_EQ(icon.header("cache-control"), "no-cache");
  EXPECT_EQ(client_->request(http::verb::head, "/").status, 200);
}

// Text files over 1 KiB go gzipped to clients that take gzip (and say Vary); others get them
// as they are.
TEST_F(ConsoleTest, LargeTextFilesGoGzippedToClientsThatTakeIt) {
  auto z = client_->get("/assets/big-5e6f7a.js", Headers{{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_EQ(z.status, 200);
  EXPECT_EQ(z.header("content-encoding"), "gzip");
  EXPECT_EQ(z.header("vary"), "Accept-Encoding");
  EXPECT_LT(z.body.size(), kBigScript.size() / 3);
  EXPECT_EQ(gunzip(z.body), kBigScript);
  expect_console_headers(z, "gzipped asset");
  for (const Headers& h : {Headers{}, Headers{{"Accept-Encoding", "gzip;q=0, br"}},
                           Headers{{"Accept-Encoding", "identity"}}}) {
    auto plain = client_->get("/assets/big-5e6f7a.js", h);
    EXPECT_EQ(plain.header("content-encoding"), "");
    EXPECT_EQ(plain.header("vary"), "Accept-Encoding");
    EXPECT_EQ(plain.body, kBigScript);
  }
  // Small files are not worth it.
  auto small = client_->get("/assets/index-3f9a1c.js", Headers{{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(small.header("content-encoding"), "");
  EXPECT_EQ(small.body, "console.log(1)");
}

TEST_F(ConsoleTest, ClientSideRoutesGetIndexAndMissingFilesGet404) {
  for (std::string page : {"/models", "/models/iris", "/profile", "/sign-in?next=%2Fmodels"}) {
    auto r = client_->get(page);
    EXPECT_EQ(r.status, 200) << page;
    EXPECT_EQ(r.body, kIndex) << page;
    expect_console_headers(r, page);
  }
  // A missing asset is not answered with HTML (a script would parse a page).
  for (std::string file : {"/assets/index-000000.js", "/assets/gone", "/robots.txt"}) {
    auto r = client_->get(file);
    EXPECT_EQ(r.status, 404) << file;
    expect_console_headers(r, file);
  }
  // Only reads fall back.
  EXPECT_EQ(client_->request(http::verb::post, "/models", "{}").status, 404);
}

TEST_F(ConsoleTest, ApiAndOperationsPathsNeverFallBack) {
  for (std::string path : {"/api", "/api/v1/nothing", "/v2/nothing", "/docs/nothing.js",
                           "/metrics/x", "/healthz/x", "/readyz/x", "/openapi.json/x"}) {
    auto r = client_->get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.header("content-type"), "application/problem+json") << path;
    EXPECT_TRUE(r.header("content-security-policy").empty()) << path;
  }
  EXPECT_EQ(client_->get("/api/v1/auth/login").status, 405);
  EXPECT_EQ(client_->get("/healthz").body, R"({"status":"ok"})");
  EXPECT_EQ(client_->get("/openapi.json").header("content-type"), "application/json");
  EXPECT_EQ(client_->get("/metrics").status, 200);
  // The console is public: no credentials asked.
  EXPECT_EQ(client_->get("/models", {{"Authorization", "Bearer wrong"}}).status, 200);
}

TEST(ConsoleNotBuiltTest, SaysHowToBuildIt) {
  testing::TestApp app;  // no console files, as a binary built without web/dist
  HttpClient client(app.port());
  for (std::string path : {"/", "/models"}) {
    auto r = client.get(path);
    EXPECT_EQ(r.status, 503) << path;
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    EXPECT_NE(r.body.find("console was not built"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("make build"), std::string::npos) << r.body;
    expect_console_headers(r, path);
  }
  EXPECT_EQ(client.get("/healthz").status, 200);
}

// The console's session: sign-in sets an HttpOnly, SameSite=Strict cookie that authenticates
// reads; writes with it need the Vigil-CSRF header and a same-origin browser; sign-out revokes
// the session and clears the cookie.
class CookieSessionTest : public ConsoleTest {
 protected:
  std::string sign_in(Headers headers = {}) {
    headers.emplace("Content-Type", "application/json");
    auto r =
        client_->request(http::verb::post, "/api/v1/auth/login",
                         R"({"email":"admin@localhost","password":"admin-password-1"})", headers);
    EXPECT_EQ(r.status, 200) << r.body;
    std::string set = r.header("set-cookie");
    EXPECT_NE(set.find("HttpOnly"), std::string::npos) << set;
    EXPECT_NE(set.find("SameSite=Strict"), std::string::npos) << set;
    EXPECT_NE(set.find("Path=/"), std::string::npos) << set;
    EXPECT_EQ(set.find("Secure"), std::string::npos) << "plain http: " << set;
    EXPECT_EQ(r.header("cache-control"), "no-store");
    return set.substr(0, set.find(';'));  // vigil_session=…
  }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(app_->port()); }
};

TEST_F(CookieSessionTest, SignInReadWithTheCookieAndSignOutRevokesIt) {
  std::string cookie = sign_in({{"Origin", origin()}, {"Sec-Fetch-Site", "same-origin"}});
  auto me = client_->get("/api/v1/auth/me", {{"Cookie", cookie}});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json().at("role").as_string(), "admin");

  // Sign-out is a write: without the header it is refused and the session lives on.
  auto refused =
      client_->request(http::verb::post, "/api/v1/auth/logout", "", {{"Cookie", cookie}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("Vigil-CSRF"), std::string::npos) << refused.body;
  EXPECT_EQ(client_->get("/api/v1/auth/me", {{"Cookie", cookie}}).status, 200);

  auto out = client_->request(http::verb::post, "/api/v1/auth/logout", "",
                              {{"Cookie", cookie}, {"Vigil-CSRF", "1"}, {"Origin", origin()}});
  EXPECT_EQ(out.status, 204) << out.body;
  EXPECT_NE(out.header("set-cookie").find("vigil_session=;"), std::string::npos);
  EXPECT_NE(out.header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(client_->get("/api/v1/auth/me", {{"Cookie", cookie}}).status, 401);
}

TEST_F(CookieSessionTest, CrossSiteWritesAreRefused) {
  std::string cookie = sign_in();
  const std::string change = R"({"name":"Eve was here"})";
  auto patch = [&](Headers h) {
    h.emplace("Content-Type", "application/json");
    return client_->request(http::verb::patch, "/api/v1/users/1", change, h);
  };
  // Another site's page: by Sec-Fetch-Site, or by Origin when a browser sends no Sec-Fetch-Site.
  for (Headers from :
       {Headers{{"Sec-Fetch-Site", "cross-site"}}, Headers{{"Sec-Fetch-Site", "same-site"}},
        Headers{{"Origin", "http://evil.example"}}, Headers{{"Origin", "null"}}}) {
    from.emplace("Cookie", cookie);
    from.emplace("Vigil-CSRF", "1");
    auto r = patch(from);
    EXPECT_EQ(r.status, 403) << from.begin()->second;
    EXPECT_NE(r.body.find("cross-site"), std::string::npos) << r.body;
  }
  // Also with a token, and for sign-in (no session planted from elsewhere) and WebSockets.
  auto [id, token] = app_->account("admin");
  EXPECT_EQ(patch({{"Authorization", "Bearer " + token}, {"Sec-Fetch-Site", "cross-site"}}).status,
            403);
  auto planted = client_->request(
      http::verb::post, "/api/v1/auth/login", "email=admin%40localhost&password=admin-password-1",
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(planted.status, 403);
  EXPECT_TRUE(planted.header("set-cookie").empty());
  auto ws = client_->get("/api/v1/ws/events", {{"Cookie", cookie},
                                               {"Connection", "Upgrade"},
                                               {"Upgrade", "websocket"},
                                               {"Sec-WebSocket-Version", "13"},
                                               {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                               {"Origin", "http://evil.example"}});
  EXPECT_EQ(ws.status, 403);

  // The same page's requests pass; so do clients that are not browsers (no Origin at all).
  EXPECT_EQ(
      patch({{"Cookie", cookie}, {"Vigil-CSRF", "1"}, {"Sec-Fetch-Site", "same-origin"}}).status,
      200);
  EXPECT_EQ(patch({{"Cookie", cookie}, {"Vigil-CSRF", "1"}, {"Origin", origin()}}).status, 200);
  EXPECT_EQ(patch({{"Authorization", "Bearer " + token}}).status, 200);
  // Reads with the cookie need no header.
  EXPECT_EQ(client_->get("/api/v1/users/1", {{"Cookie", cookie}}).status, 200);
}

}  // namespace
}  // namespace vigil
