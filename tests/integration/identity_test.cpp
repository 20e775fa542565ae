// Identity, access control and the audit log end to end, on SQLite and on a real PostgreSQL:
// sign-up, sign-in (JSON, form, cookie, Basic), expiry (403) and invalid tokens (401), login
// rate limits, user management, a role matrix over every route of the OpenAPI document, and an
// audit record for every request.
#include <gtest/gtest.h>
#include <sodium.h>
#include <boost/json.hpp>

#include <atomic>
#include <thread>

#include "auth/token_service.h"
#include "auth/user_store.h"
#include "core/ids.h"
#include "support/http_client.h"
#include "support/pg_server.h"
#include "support/test_app.h"

namespace vigil {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using testing::HttpClient;
using testing::HttpResult;
using Settings = std::vector<std::pair<std::string, std::string>>;
using Headers = std::map<std::string, std::string>;

std::string basic(const std::string& user, const std::string& password) {
  return testing::basic_authorization(user, password);
}

class IdentityTest : public testing::BackendAppTest {
 protected:
  void SetUp() override {
    start_app({{"auth.login_max_failures_per_account", "3"}}, "identity");
    if (IsSkipped() || HasFatalFailure()) return;
  }

  HttpResult post(const std::string& path, const json::value& body, Headers h = {}) {
    h.emplace("Content-Type", "application/json");
    return client_->request(http::verb::post, path, json::serialize(body), h);
  }
  HttpResult call(http::verb method, const std::string& path, const std::string& body, Headers h) {
    if (!body.empty()) h.emplace("Content-Type", "application/json");
    return client_->request(method, path, body, h);
  }
  std::string login(const std::string& email, const std::string& password) {
    auto r = post("/api/v1/auth/login", {{"email", email}, {"password", password}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? std::string(r.json().at("token").as_string()) : std::string();
  }
  Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
  // A token for a new account with the given role, made directly in the store.
  std::pair<int64_t, std::string> account(const std::string& role) { return app_->account(role); }
};

// /auth/me writes its JSON by hand: names that need escaping come back exactly.
TEST_P(IdentityTest, MeEscapesWhatItReturns) {
  const std::string name = "Ada \"the\" Countess \\ of\tLovelace \xc3\xa9";
  ASSERT_EQ(post("/api/v1/auth/register",
                 {{"email", "ada@example.com"}, {"password", "lovelace-1815"}, {"name", name}})
                .status,
            201);
  auto me = client_->get("/api/v1/auth/me", bearer(login("ada@example.com", "lovelace-1815")));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.header("content-type"), "application/json");
  const auto body = me.json();
  const auto& o = body.as_object();
  EXPECT_EQ(o.size(), 4u) << me.body;
  EXPECT_EQ(o.at("name").as_string(), name);
  EXPECT_EQ(o.at("email").as_string(), "ada@example.com");
  EXPECT_EQ(o.at("role").as_string(), "user");
  EXPECT_GT(o.at("id").as_int64(), 0);
}

TEST_P(IdentityTest, RegisterSignInMeAndSignOut) {
  auto reg = post("/api/v1/auth/register",
                  {{"email", "Ada@Example.com"}, {"password", "lovelace-1815"}, {"name", "Ada"}});
  ASSERT_EQ(reg.status, 201) << reg.body;
  EXPECT_EQ(reg.json().at("role").as_string(), "user");
  EXPECT_FALSE(reg.json().as_object().contains("password_hash"));
  EXPECT_EQ(
      post("/api/v1/auth/register", {{"email", "ada@example.com"}, {"password", "other-pass-1"}})
          .status,
      409);
  auto weak = post("/api/v1/auth/register", {{"email", "b@example.com"}, {"password", "short"}});
  EXPECT_EQ(weak.status, 422);
  EXPECT_EQ(weak.json().at("errors").at(0).at("field").as_string(), "password");
  EXPECT_EQ(post("/api/v1/auth/register", {{"email", 5}, {"password", "long-enough-1"}}).status,
            422);
  EXPECT_EQ(client_
                ->request(http::verb::post, "/api/v1/auth/register", "{bad json",
                          {{"Content-Type", "application/json"}})
                .status,
            400);
  EXPECT_EQ(client_
                ->request(http::verb::post, "/api/v1/auth/register", "x=1",
                          {{"Content-Type", "text/plain"}})
                .status,
            415);

  auto signin =
      post("/api/v1/auth/login", {{"email", "ada@example.com"}, {"password", "lovelace-1815"}});
  ASSERT_EQ(signin.status, 200) << signin.body;
  std::string token(signin.json().at("token").as_string());
  EXPECT_GE(token.size(), 43u);  // 256 bits, base64url
  std::string cookie = signin.header("set-cookie");
  EXPECT_NE(cookie.find("vigil_session=" + token), std::string::npos);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);

  auto me = client_->get("/api/v1/auth/me", bearer(token));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json().at("email").as_string(), "Ada@Example.com");
  EXPECT_EQ(me.json().at("name").as_string(), "Ada");
  EXPECT_EQ(
      client_->get("/api/v1/auth/me", {{"Cookie", "theme=dark; vigil_session=" + token}}).status,
      200);

  // The token is stored only as a hash.
  auto stored = app_->app().database().query("SELECT token_hash FROM tokens");
  ASSERT_TRUE(stored.ok());
  for (size_t i = 0; i < stored->size(); ++i) EXPECT_NE(stored->get_text(i, 0), token);

  EXPECT_EQ(client_->request(http::verb::post, "/api/v1/auth/logout", "", bearer(token)).status,
            204);
  EXPECT_EQ(client_->get("/api/v1/auth/me", bearer(token)).status, 401);
}

TEST_P(IdentityTest, FormLoginAndBasicCredentials) {
  auto form = client_->request(http::verb::post, "/api/v1/auth/login",
                               "email=admin%40localhost&password=admin-password-1",
                               {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 200) << form.body;
  auto me = client_->get("/api/v1/auth/me",
                         {{"Authorization", basic("admin@localhost", "admin-password-1")}});
  EXPECT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json().at("role").as_string(), "admin");
  // Cached Basic credentials must not let a wrong password in.
  EXPECT_EQ(
      client_->get("/api/v1/auth/me", {{"Authorization", basic("admin@localhost", "wrong-pass")}})
          .status,
      401);
  EXPECT_EQ(client_->get("/api/v1/auth/me", {{"Authorization", "Basic !!!"}}).status, 401);
}

// Issue 13 (point 6): the 8-character minimum of a password counts Unicode code points.
TEST_P(IdentityTest, PasswordsCountCodePointsNotBytes) {
  const std::string emoji = "\xf0\x9f\x98\x80";  // U+1F600, four bytes
  const std::string e = "\xc3\xa9";              // é, two bytes
  auto four_emoji = post("/api/v1/auth/register", {{"email", "emoji@example.com"},
                                                   {"password", emoji + emoji + emoji + emoji}});
  ASSERT_EQ(four_emoji.status, 422) << four_emoji.body;
  EXPECT_EQ(four_emoji.json().at("errors").at(0).at("field").as_string(), "password");
  auto seven_e = post("/api/v1/auth/register",
                      {{"email", "seven@example.com"}, {"password", e + e + e + e + e + e + e}});
  EXPECT_EQ(seven_e.status, 422) << seven_e.body;
  auto eight_e = post("/api/v1/auth/register", {{"email", "eight@example.com"},
                                                {"password", e + e + e + e + e + e + e + e}});
  EXPECT_EQ(eight_e.status, 201) << eight_e.body;
}

// Issue 13 (point 7): emails are one account ignoring case and Unicode normalisation, and are
// kept as given.
TEST_P(IdentityTest, EmailsAreOneAccountInAnyCaseOrUnicodeForm) {
  const std::string eva = "\xc3\xa9va@example.com";  // é composed (U+00E9)
  auto registered = post("/api/v1/auth/register", {{"email", eva}, {"password", "password-1"}});
  ASSERT_EQ(registered.status, 201) << registered.body;
  EXPECT_EQ(registered.json().at("email").as_string(), eva);
  for (const char* other : {"\xc3\x89VA@EXAMPLE.COM", "E\xcc\x81va@example.com"}) {
    auto taken = post("/api/v1/auth/register", {{"email", other}, {"password", "password-2"}});
    EXPECT_EQ(taken.status, 409) << other << " " << taken.body;
  }
  auto signin =
      post("/api/v1/auth/login", {{"email", "\xc3\x89VA@EXAMPLE.COM"}, {"password", "password-1"}});
  ASSERT_EQ(signin.status, 200) << signin.body;
  EXPECT_EQ(signin.json().at("user").at("email").as_string(), eva);
  auto me = client_->get("/api/v1/auth/me",
                         {{"Authorization", basic("E\xcc\x81VA@example.com", "password-1")}});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json().at("email").as_string(), eva);
  // An email that is not UTF-8 names no account: 401, not a store error.
  auto not_utf8 =
      client_->get("/api/v1/auth/me", {{"Authorization", basic("\xff@example.com", "password-1")}});
  EXPECT_EQ(not_utf8.status, 401) << not_utf8.body;
  auto form = client_->request(http::verb::post, "/api/v1/auth/login",
                               "email=%FF%40example.com&password=password-1",
                               {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 401) << form.body;
}

// Every 401 says how to authenticate; the scheme name is case-insensitive (RFC 9110 §11.1).
TEST_P(IdentityTest, UnauthorizedSaysHowAndSchemesIgnoreCase) {
  std::string token = login("admin@localhost", "admin-password-1");
  for (const char* authz : {"", "Bearer not-a-token", "Basic !!!", "Digest x"}) {
    Headers h;
    if (*authz) h["Authorization"] = authz;
    auto r = client_->get("/api/v1/auth/me", h);
    EXPECT_EQ(r.status, 401) << authz;
    EXPECT_EQ(r.header("www-authenticate"), "Bearer realm=\"vigil\"") << authz;
  }
  for (const char* scheme : {"Bearer ", "bearer ", "BEARER ", "bEaReR "}) {
    EXPECT_EQ(client_->get("/api/v1/auth/me", {{"Authorization", scheme + token}}).status, 200)
        << scheme;
  }
}

TEST_P(IdentityTest, MissingInvalidAndExpiredTokens) {
  auto none = client_->get("/api/v1/auth/me");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("www-authenticate"), "Bearer realm=\"vigil\"");
  EXPECT_EQ(client_->get("/api/v1/auth/me", bearer("not-a-real-token")).status, 401);
  EXPECT_EQ(client_->get("/api/v1/auth/me", {{"Authorization", "Token abc"}}).status, 401);

  auto [id, token] = account("user");
  ASSERT_TRUE(app_->app()
                  .database()
                  .exec("UPDATE tokens SET expires_at = $1 WHERE token_hash = $2",
                        {std::string("2001-01-01T00:00:00.000Z"), sha256_hex(token)})
                  .ok());
  auto expired = client_->get("/api/v1/auth/me", bearer(token));
  EXPECT_EQ(expired.status, 403) << expired.body;
  EXPECT_NE(expired.body.find("expired"), std::string::npos);
}

TEST_P(IdentityTest, FailedSignInsAreRateLimited) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(post("/api/v1/auth/login", {{"email", "admin@localhost"}, {"password", "nope-nope"}})
                  .status,
              401);
  }
  auto limited =
      post("/api/v1/auth/login", {{"email", "ADMIN@localhost"}, {"password", "admin-password-1"}});
  EXPECT_EQ(limited.status, 429);
  EXPECT_FALSE(limited.header("retry-after").empty());
  // Other accounts are not locked out.
  ASSERT_TRUE(app_->app().users().create("other@example.com", "password-123", "", "user").ok());
  login("other@example.com", "password-123");
}

// One limiter for every credential path: wrong Basic passwords count toward the sign-in limits,
// and an account /login refuses (429) is refused over Basic too, even with the right password.
TEST_P(IdentityTest, BasicSharesTheSignInLimits) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client_->get("/api/v1/auth/me", {{"Authorization", basic("admin@localhost", "nope")}})
                  .status,
              401);
  }
  auto limited = client_->get("/api/v1/auth/me",
                              {{"Authorization", basic("admin@localhost", "admin-password-1")}});
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_FALSE(limited.header("retry-after").empty());
  EXPECT_EQ(
      post("/api/v1/auth/login", {{"email", "admin@localhost"}, {"password", "admin-password-1"}})
          .status,
      429);
  // The other way round: failed sign-ins lock Basic out for that account.
  ASSERT_TRUE(app_->app().users().create("other@example.com", "password-123", "", "user").ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(post("/api/v1/auth/login", {{"email", "other@example.com"}, {"password", "wrong-1"}})
                  .status,
              401);
  }
  EXPECT_EQ(
      client_
          ->get("/api/v1/auth/me", {{"Authorization", basic("other@example.com", "password-123")}})
          .status,
      429);
}

TEST_P(IdentityTest, AdminManagesUsersAndUsersOnlyThemselves) {
  std::string admin = login("admin@localhost", "admin-password-1");
  auto created =
      post("/api/v1/users",
           {{"email", "op@example.com"}, {"password", "operator-1"}, {"role", "watchdog"}},
           bearer(admin));
  ASSERT_EQ(created.status, 201) << created.body;
  int64_t op_id = created.json().at("id").as_int64();
  EXPECT_EQ(post("/api/v1/users",
                 {{"email", "x@example.com"}, {"password", "operator-1"}, {"role", "king"}},
                 bearer(admin))
                .status,
            422);

  auto page1 = client_->get("/api/v1/users?limit=1", bearer(admin));
  ASSERT_EQ(page1.status, 200);
  ASSERT_EQ(page1.json().at("items").as_array().size(), 1u);
  std::string cursor(page1.json().at("next_cursor").as_string());
  auto page2 = client_->get("/api/v1/users?limit=1&cursor=" + cursor, bearer(admin));
  ASSERT_EQ(page2.status, 200);
  EXPECT_EQ(page2.json().at("items").at(0).at("id").as_int64(), op_id);
  EXPECT_TRUE(page2.json().at("next_cursor").is_null());
  EXPECT_EQ(client_->get("/api/v1/users?limit=0", bearer(admin)).status, 422);
  EXPECT_EQ(client_->get("/api/v1/users?cursor=garbage", bearer(admin)).status, 422);

  auto patched = call(http::verb::patch, "/api/v1/users/" + std::to_string(op_id),
                      R"({"role":"user","name":"Op"})", bearer(admin));
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json().at("role").as_string(), "user");

  // The user reads and changes only their own account.
  std::string op = login("op@example.com", "operator-1");
  EXPECT_EQ(client_->get("/api/v1/users/" + std::to_string(op_id), bearer(op)).status, 200);
  EXPECT_EQ(client_->get("/api/v1/users/1", bearer(op)).status, 403);
  EXPECT_EQ(client_->get("/api/v1/users", bearer(op)).status, 403);
  EXPECT_EQ(call(http::verb::patch, "/api/v1/users/" + std::to_string(op_id), R"({"role":"admin"})",
                 bearer(op))
                .status,
            403);
  EXPECT_EQ(call(http::verb::patch, "/api/v1/users/" + std::to_string(op_id),
                 R"({"password":"new-password-1"})", bearer(op))
                .status,
            422);
  EXPECT_EQ(call(http::verb::patch, "/api/v1/users/" + std::to_string(op_id),
                 R"({"password":"new-password-1","current_password":"wrong"})", bearer(op))
                .status,
            403);
  EXPECT_EQ(call(http::verb::patch, "/api/v1/users/" + std::to_string(op_id),
                 R"({"password":"new-password-1","current_password":"operator-1"})", bearer(op))
                .status,
            200);
  login("op@example.com", "new-password-1");

  // The last admin can be neither demoted nor deleted; others can be deleted.
  EXPECT_EQ(call(http::verb::patch, "/api/v1/users/1", R"({"role":"user"})", bearer(admin)).status,
            409);
  EXPECT_EQ(call(http::verb::delete_, "/api/v1/users/1", "", bearer(admin)).status, 409);
  EXPECT_EQ(
      call(http::verb::delete_, "/api/v1/users/" + std::to_string(op_id), "", bearer(admin)).status,
      204);
  EXPECT_EQ(client_->get("/api/v1/users/" + std::to_string(op_id), bearer(admin)).status, 404);
  EXPECT_EQ(client_->get("/api/v1/auth/me", bearer(op)).status, 401);  // tokens went with it
}

// A username: optional, given at sign-up or by an admin, unique ignoring case; a taken or an
// invalid one is answered naming the field, as an invalid email is.
TEST_P(IdentityTest, UsernamesAtSignUp) {
  auto reg =
      post("/api/v1/auth/register",
           {{"email", "ann@example.com"}, {"password", "password-1"}, {"username", "Ann.Lee"}});
  ASSERT_EQ(reg.status, 201) << reg.body;
  EXPECT_EQ(reg.json().at("username").as_string(), "Ann.Lee");
  auto none =
      post("/api/v1/auth/register", {{"email", "bo@example.com"}, {"password", "password-1"}});
  ASSERT_EQ(none.status, 201) << none.body;
  EXPECT_TRUE(none.json().at("username").is_null()) << none.body;
  auto explicit_null =
      post("/api/v1/auth/register",
           {{"email", "cy@example.com"}, {"password", "password-1"}, {"username", nullptr}});
  ASSERT_EQ(explicit_null.status, 201) << explicit_null.body;
  EXPECT_TRUE(explicit_null.json().at("username").is_null());

  auto taken =
      post("/api/v1/auth/register",
           {{"email", "di@example.com"}, {"password", "password-1"}, {"username", "ann.LEE"}});
  EXPECT_EQ(taken.status, 409) << taken.body;
  EXPECT_EQ(taken.json().at("errors").at(0).at("field").as_string(), "username") << taken.body;
  EXPECT_NE(taken.json().at("detail").as_string().find("username"), std::string::npos);
  // A taken email stays about the email.
  auto email_taken =
      post("/api/v1/auth/register",
           {{"email", "ANN@example.com"}, {"password", "password-1"}, {"username", "free"}});
  EXPECT_EQ(email_taken.status, 409) << email_taken.body;
  EXPECT_EQ(email_taken.json().at("detail").as_string().find("username"), std::string::npos);

  for (const json::value& bad : {json::value(""), json::value("-ann"), json::value("a b"),
                                 json::value(std::string(65, 'a')), json::value(7)}) {
    auto refused =
        post("/api/v1/auth/register",
             {{"email", "ed@example.com"}, {"password", "password-1"}, {"username", bad}});
    EXPECT_EQ(refused.status, 422) << json::serialize(bad) << " " << refused.body;
    EXPECT_EQ(refused.json().at("errors").at(0).at("field").as_string(), "username")
        << refused.body;
  }
}

TEST_P(IdentityTest, AdminsSetChangeAndClearUsernames) {
  std::string admin = login("admin@localhost", "admin-password-1");
  auto created = post("/api/v1/users",
                      {{"email", "op@example.com"},
                       {"password", "operator-1"},
                       {"role", "user"},
                       {"username", "op-1"}},
                      bearer(admin));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json().at("username").as_string(), "op-1");
  const std::string op_path = "/api/v1/users/" + std::to_string(created.json().at("id").as_int64());
  auto other = post("/api/v1/users",
                    {{"email", "other@example.com"}, {"password", "operator-1"}, {"role", "user"}},
                    bearer(admin));
  ASSERT_EQ(other.status, 201) << other.body;
  EXPECT_TRUE(other.json().at("username").is_null());
  const std::string other_path =
      "/api/v1/users/" + std::to_string(other.json().at("id").as_int64());

  // Taken ignoring case: 409; invalid: 422; both naming username.
  for (const auto& [username, status] : {std::pair{"OP-1", 409}, std::pair{"_op", 422}}) {
    auto refused = post("/api/v1/users",
                        {{"email", "x@example.com"},
                         {"password", "operator-1"},
                         {"role", "user"},
                         {"username", username}},
                        bearer(admin));
    EXPECT_EQ(refused.status, status) << refused.body;
    EXPECT_EQ(refused.json().at("errors").at(0).at("field").as_string(), "username");
  }

  // Changed, refused when taken (nothing of that change applied), cleared with null.
  auto changed = call(http::verb::patch, op_path, R"({"username":"Op.Two"})", bearer(admin));
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(changed.json().at("username").as_string(), "Op.Two");
  auto clash =
      call(http::verb::patch, other_path, R"({"name":"New","username":"op.two"})", bearer(admin));
  EXPECT_EQ(clash.status, 409) << clash.body;
  EXPECT_EQ(clash.json().at("errors").at(0).at("field").as_string(), "username");
  EXPECT_EQ(client_->get(other_path, bearer(admin)).json().at("name").as_string(), "");
  auto bad = call(http::verb::patch, other_path, R"({"username":"a/b"})", bearer(admin));
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(bad.json().at("errors").at(0).at("field").as_string(), "username");
  auto unchanged = call(http::verb::patch, op_path, R"({"name":"Op"})", bearer(admin));
  EXPECT_EQ(unchanged.json().at("username").as_string(), "Op.Two") << unchanged.body;

  // ?username= finds the one account, ignoring case.
  auto found = client_->get("/api/v1/users?username=OP.TWO", bearer(admin));
  ASSERT_EQ(found.status, 200) << found.body;
  ASSERT_EQ(found.json().at("items").as_array().size(), 1u) << found.body;
  EXPECT_EQ(found.json().at("items").at(0).at("email").as_string(), "op@example.com");
  EXPECT_TRUE(found.json().at("next_cursor").is_null());
  EXPECT_TRUE(client_->get("/api/v1/users?username=nobody", bearer(admin))
                  .json()
                  .at("items")
                  .as_array()
                  .empty());

  auto cleared = call(http::verb::patch, op_path, R"({"username":null})", bearer(admin));
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_TRUE(cleared.json().at("username").is_null());
  EXPECT_TRUE(client_->get(op_path, bearer(admin)).json().at("username").is_null());
  EXPECT_EQ(call(http::verb::patch, other_path, R"({"username":"OP.TWO"})", bearer(admin)).status,
            200);

  // Users do not give themselves one.
  std::string op = login("op@example.com", "operator-1");
  EXPECT_EQ(call(http::verb::patch, op_path, R"({"username":"mine"})", bearer(op)).status, 403);
  EXPECT_TRUE(client_->get(op_path, bearer(op)).json().at("username").is_null());
}

TEST_P(IdentityTest, DisablingAnAccountEndsItsSessions) {
  std::string admin = login("admin@localhost", "admin-password-1");
  auto [id, token] = account("user");
  EXPECT_EQ(client_->get("/api/v1/auth/me", bearer(token)).status, 200);
  EXPECT_EQ(call(http::verb::patch, "/api/v1/users/" + std::to_string(id), R"({"disabled":true})",
                 bearer(admin))
                .status,
            200);
  EXPECT_EQ(client_->get("/api/v1/auth/me", bearer(token)).status, 401);
}

// "The last active admin stays" holds under concurrency: two admins demote each other (then
// disable each other) with 50 requests from 8 connections at once, and exactly one active admin
// is left every time. Each request is checked inside one store transaction.
TEST_P(IdentityTest, ConcurrentDemotionsLeaveOneAdmin) {
  auto& users = app_->app().users();
  const int64_t ids[2] = {1, account("admin").first};
  for (const char* change : {R"({"role":"user"})", R"({"disabled":true})"}) {
    for (int round = 0; round < 2; ++round) {
      // Fresh sessions: disabling revokes the loser's.
      std::pair<int64_t, std::string> admins[2];
      for (int k = 0; k < 2; ++k) {
        auto user = users.get(ids[k]);
        ASSERT_TRUE(user.ok());
        auto issued = app_->app().tokens().issue(*user);
        ASSERT_TRUE(issued.ok());
        admins[k] = {ids[k], issued->token};
      }
      std::atomic<int> next{0}, ok{0}, unexpected{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
          HttpClient client(app_->port());
          for (int i; (i = next++) < 50;) {
            const auto& [caller_id, caller] = admins[i % 2];
            const int64_t other = admins[1 - i % 2].first;
            auto r = client.request(
                http::verb::patch, "/api/v1/users/" + std::to_string(other), change,
                {{"Authorization", "Bearer " + caller}, {"Content-Type", "application/json"}});
            if (r.status == 200) ++ok;
            // 403: the caller lost its role (or its session) a moment ago; 409: the last admin.
            if (r.status != 200 && r.status != 403 && r.status != 409 && r.status != 401) {
              ++unexpected;
            }
          }
        });
      }
      for (auto& t : threads) t.join();
      EXPECT_GE(ok.load(), 1) << change;
      EXPECT_EQ(unexpected.load(), 0) << change;
      auto active = app_->app().users().count_admins();
      ASSERT_TRUE(active.ok());
      ASSERT_EQ(*active, 1) << change << " round " << round;
      // Restore the other admin through the store, for the next round.
      for (int64_t id : ids) {
        ASSERT_TRUE(users.set_role(id, "admin").ok());
        ASSERT_TRUE(users.set_disabled(id, false).ok());
        app_->app().tokens().forget_user(id);
      }
    }
  }
}

// PATCH applies every field or none: a bad last field leaves the first unchanged.
TEST_P(IdentityTest, AFailedPatchChangesNothing) {
  std::string admin = login("admin@localhost", "admin-password-1");
  auto [id, token] = account("user");
  const std::string path = "/api/v1/users/" + std::to_string(id);
  auto before = client_->get(path, bearer(admin));
  ASSERT_EQ(before.status, 200);
  for (const char* body :
       {R"({"name":"Renamed","role":"king"})", R"({"name":"Renamed","password":"short"})",
        R"({"name":"Renamed","disabled":"yes"})"}) {
    auto r = call(http::verb::patch, path, body, bearer(admin));
    EXPECT_EQ(r.status, 422) << body << " " << r.body;
    ASSERT_TRUE(r.json().as_object().contains("errors")) << r.body;
  }
  auto after = client_->get(path, bearer(admin));
  EXPECT_EQ(after.json().at("name"), before.json().at("name"));
  EXPECT_EQ(after.json().at("updated_at"), before.json().at("updated_at"));
  EXPECT_EQ(client_->get("/api/v1/auth/me", bearer(token)).status, 200);
}

// Every route of the OpenAPI document, called as anonymous, user, watchdog and admin: public
// routes never answer 401/403; others answer 401 to anonymous, 403 to roles the permission
// table leaves out, and neither to roles it allows — except that a user gets none of a private
// model's data from any route about it (403; 404 for what it does not have; 422 for a body
// refused before the model is looked at). New routes are covered automatically.
TEST_P(IdentityTest, RoleMatrixOverEveryRoute) {
  auto doc = client_->get("/openapi.json").json();
  ASSERT_TRUE(doc.is_object());
  struct Caller {
    std::string role;
    int64_t id = 1;
    std::string token;
  };
  auto admin_token = app_->app().tokens().issue(*app_->app().users().get(1));
  ASSERT_TRUE(admin_token.ok());
  std::vector<Caller> callers = {{"anonymous", 1, ""}};
  auto [user_id, user_token] = account("user");
  callers.push_back({"user", user_id, user_token});
  callers.push_back({"admin", 1, admin_token->token});
  // The watchdog is enrolled on a device, as every real one is: its routes may then refuse it
  // only for its role, not for an account that watches no device.
  {
    Headers json_admin = bearer(admin_token->token);
    json_admin.emplace("Content-Type", "application/json");
    ASSERT_EQ(
        call(http::verb::post, "/api/v1/devices", R"({"name":"matrix-device"})", json_admin).status,
        201);
    auto code =
        call(http::verb::post, "/api/v1/devices/matrix-device/enrollments", "{}", json_admin);
    ASSERT_EQ(code.status, 201) << code.body;
    Headers json;
    json.emplace("Content-Type", "application/json");
    auto enrolled = call(http::verb::post, "/api/v1/enroll",
                         R"({"code":")" + std::string(code.json().at("code").as_string()) +
                             R"(","watchdog":"matrix-watchdog"})",
                         json);
    ASSERT_EQ(enrolled.status, 201) << enrolled.body;
    const std::string token(enrolled.json().at("token").as_string());
    auto me = call(http::verb::get, "/api/v1/auth/me", "", bearer(token));
    ASSERT_EQ(me.status, 200) << me.body;
    callers.insert(callers.end() - 1, {"watchdog", me.json().at("id").as_int64(), token});
  }
  // Every {name} becomes "x": a private model of that name (no owner, no readers) makes the
  // routes about a model refuse a user, whatever the permission table allows them.
  Headers admin = bearer(admin_token->token);
  Headers upload = admin;
  upload.emplace("Content-Type", "application/octet-stream");
  upload.emplace("Vigil-Metadata", R"({"features":["f"]})");
  ASSERT_EQ(call(http::verb::post, "/api/v1/models/x/versions?kind=linear",
                 R"({"weights":[1],"bias":0})", upload)
                .status,
            201);
  Headers json_admin = admin;
  json_admin.emplace("Content-Type", "application/json");
  ASSERT_EQ(
      call(http::verb::patch, "/api/v1/models/x", R"({"visibility":"private"})", json_admin).status,
      200);
  auto about_a_model = [](const std::string& path) {
    return path.rfind("/api/v1/models/{name}", 0) == 0 ||
           path.rfind("/api/v1/predict/{name}", 0) == 0 || path.rfind("/v2/models/{name}", 0) == 0;
  };

  int checked = 0;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      std::string action(op.at("x-vigil-action").as_string());
      std::vector<std::string> allowed;
      if (auto* roles = op.as_object().if_contains("x-vigil-roles")) {
        for (const auto& r : roles->as_array()) allowed.emplace_back(r.as_string());
      }
      for (const auto& caller : callers) {
        std::string target(path);
        for (auto pos = target.find('{'); pos != std::string::npos; pos = target.find('{')) {
          auto end = target.find('}', pos);
          std::string name = target.substr(pos + 1, end - pos - 1);
          target.replace(pos, end - pos + 1, name == "id" ? std::to_string(caller.id) : "x");
        }
        if (target == "/api/v1/auth/logout") continue;  // would revoke the caller's token
        http::verb verb = http::string_to_verb([&] {
          std::string m(method);
          for (auto& c : m) c = static_cast<char>(std::toupper(c));
          return m;
        }());
        std::string body =
            (verb == http::verb::post || verb == http::verb::put || verb == http::verb::patch)
                ? "{}"
                : "";
        Headers h;
        if (!caller.token.empty()) h = bearer(caller.token);
        HttpClient fresh(app_->port());
        auto r = fresh.request(
            verb, target, body, body.empty() ? h : [&] {
              auto x = h;
              x.emplace("Content-Type", "application/json");
              return x;
            }());
        std::string what = caller.role + " " + std::string(method) + " " + target + " -> " +
                           std::to_string(r.status) + " " + r.body;
        bool role_allowed = std::find(allowed.begin(), allowed.end(), caller.role) != allowed.end();
        if (action == "public") {
          EXPECT_NE(r.status, 401) << what;
          EXPECT_NE(r.status, 403) << what;
        } else if (caller.role == "anonymous") {
          EXPECT_EQ(r.status, 401) << what;
        } else if (role_allowed && caller.role == "user" && about_a_model(std::string(path))) {
          // A private model: refused, not found (a version or alias it does not have), or a body
          // refused before the model is looked at — never its data.
          EXPECT_TRUE(r.status == 403 || r.status == 404 || r.status == 422) << what;
        } else if (role_allowed) {
          EXPECT_NE(r.status, 401) << what;
          EXPECT_NE(r.status, 403) << what;
        } else {
          EXPECT_EQ(r.status, 403) << what;
        }
        EXPECT_NE(r.status, 500) << what;
        EXPECT_NE(r.status, 0) << what;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 40);
}

TEST_P(IdentityTest, EveryRequestIsAudited) {
  auto count = [&] {
    auto n = app_->app().database().query("SELECT COALESCE(SUM(count), 0) FROM audit_segments");
    return n.ok() ? n->get_int(0, 0) : -1;
  };
  app_->app().flush_audit();
  int64_t before = count();
  std::string admin = login("admin@localhost", "admin-password-1");  // 1
  int sent = 1;
  for (int i = 0; i < 20; ++i, ++sent) client_->get("/healthz");
  client_->get("/api/nowhere");
  client_->get("/api/v1/auth/me");
  client_->get("/api/v1/auth/me", bearer("bad"));
  client_->get("/api/v1/users", bearer(admin));
  post("/api/v1/auth/login", {{"email", "admin@localhost"}, {"password", "wrong-one"}});
  sent += 5;
  testing::RawConnection raw(app_->port());
  raw.send("NOT HTTP AT ALL\r\n\r\n");
  raw.read_all(std::chrono::seconds(2));
  ++sent;
  app_->app().flush_audit();
  EXPECT_EQ(count() - before, sent);

  auto listed = client_->get("/api/v1/audit?path_prefix=/api/v1/users&limit=5", bearer(admin));
  ASSERT_EQ(listed.status, 200) << listed.body;
  auto items = listed.json().at("items").as_array();
  ASSERT_GE(items.size(), 1u);
  EXPECT_EQ(items[0].at("path").as_string(), "/api/v1/users");
  EXPECT_EQ(items[0].at("user").at("email").as_string(), "admin@localhost");
  EXPECT_EQ(items[0].at("status").as_int64(), 200);
  auto failed = client_->get("/api/v1/audit?status=401", bearer(admin));
  ASSERT_EQ(failed.status, 200);
  EXPECT_GE(failed.json().at("items").as_array().size(), 3u);
  EXPECT_EQ(client_->get("/api/v1/audit?since=yesterday", bearer(admin)).status, 422);
  EXPECT_EQ(client_->get("/api/v1/audit?since=0&until=4102444800000", bearer(admin)).status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, IdentityTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(IdentityConfigTest, ClosedRegistrationIsRefused) {
  testing::TestApp t(Settings{{"auth.open_registration", "false"}});
  HttpClient c(t.port());
  auto r = c.request(http::verb::post, "/api/v1/auth/register",
                     R"({"email":"a@b.cd","password":"long-enough-1"})",
                     {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 403);
}

}  // namespace
}  // namespace vigil
