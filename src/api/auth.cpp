#include "api/auth.h"

#include <boost/json.hpp>

#include "api/handler.h"
#include "api/json_body.h"
#include "api/openapi.h"
#include "api/schemas.h"
#include "core/logging.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::field;
using net::http::status;
using net::http::verb;

json::object user_json(const auth::User& u) {
  return {{"id", u.id},
          {"email", u.email},
          {"name", u.name},
          {"username", u.username ? json::value(*u.username) : json::value(nullptr)},
          {"role", u.role},
          {"created_at", u.created_at},
          {"updated_at", u.updated_at},
          {"disabled", u.disabled}};
}

json::value user_schema() {
  return json::object{
      {"type", "object"},
      {"required",
       {"id", "email", "name", "username", "role", "created_at", "updated_at", "disabled"}},
      {"properties",
       {{"id", {{"type", "integer"}}},
        {"email", {{"type", "string"}}},
        {"name", {{"type", "string"}}},
        {"username",
         {{"type", json::array{"string", "null"}},
          {"description", "Optional, unique ignoring case; null when the user has none."}}},
        {"role", {{"type", "string"}, {"enum", json::array{"admin", "user", "watchdog"}}}},
        {"created_at", {{"type", "string"}, {"format", "date-time"}}},
        {"updated_at", {{"type", "string"}, {"format", "date-time"}}},
        {"disabled", {{"type", "boolean"}}}}}};
}

json::value with_account_rules(json::value schema) {
  json::object& properties = schema.as_object()["properties"].as_object();
  if (auto* email = properties.if_contains("email")) {
    email->as_object()["description"] =
        "Unique ignoring case: compared after Unicode NFC normalisation and case folding "
        "(\u00c9VA@EXAMPLE.COM and \u00e9va@example.com are one account); stored as given.";
  }
  if (auto* password = properties.if_contains("password")) {
    password->as_object()["minLength"] = 8;
    password->as_object()["description"] =
        "At least 8 characters (Unicode code points, not bytes) and at most 1024 bytes of UTF-8.";
  }
  if (auto* username = properties.if_contains("username")) {
    json::object& u = username->as_object();
    u["type"] = json::array{"string", "null"};
    u["pattern"] = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
    u["description"] =
        "Optional: 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit; unique ignoring "
        "case (409 naming username when taken); stored as given. What a sleep record's user "
        "attribute names. null: none (on a change: clears it).";
  }
  return schema;
}

namespace {

std::string session_cookie(const std::string& token, int64_t max_age, bool secure) {
  std::string c = "vigil_session=" + token +
                  "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
  if (secure) c += "; Secure";
  return c;
}

class AuthHandlers {
 public:
  explicit AuthHandlers(AuthDeps d) : d_(d) {}

  void register_account(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    std::string email = f.required_string("email");
    std::string password = f.required_string("password");
    std::string name = f.optional_string("name").value_or("");
    std::optional<std::string> username = f.optional_string("username");
    f.reject_unknown({"email", "password", "name", "username"});
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, email, password, name, username](net::Exchange& ex) {
      auto user = d.accounts->register_account(email, password, name, username);
      if (!user.ok()) return respond_status(ex, user.status());
      respond_created(ex, "/api/v1/users/" + std::to_string(user->id), user_json(*user));
    });
  }

  void login(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex, /*allow_form=*/true);
    if (!body) return;
    Fields f(*body);
    std::string email = f.required_string("email");
    std::string password = f.required_string("password");
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, email, password](net::Exchange& ex) {
      auto result = d.accounts->sign_in(email, password, ex.remote_ip());
      if (!result.status.ok()) return respond_sign_in_error(ex, result);
      const auth::SignedIn& in = *result.signed_in;
      auto res = net::make_json(status::ok, {{"token", in.token.token},
                                             {"expires_at", in.token.expires_at},
                                             {"user", user_json(in.user)}});
      res.set(field::set_cookie,
              session_cookie(in.token.token, d.tokens->ttl().count(), d.secure_cookie));
      res.set(field::cache_control, "no-store");
      ex.respond(std::move(res));
    });
  }

  void logout(const ExchangePtr& ex) const {
    const Principal* p = ex->principal();
    std::string token = p ? p->token : std::string();
    off_io(*d_.blocking, ex, [d = d_, token](net::Exchange& ex) {
      if (!token.empty()) {
        if (Status s = d.tokens->revoke(token); !s.ok()) return respond_status(ex, s);
      }
      net::HttpResponse res{status::no_content, 11};
      res.set(field::set_cookie, session_cookie("", 0, d.secure_cookie));
      ex.respond(std::move(res));
    });
  }

  // Written by hand, on the I/O thread: S1 of the benchmarks measures this route.
  void me(const ExchangePtr& ex) const {
    const Principal* p = ex->principal();
    net::HttpResponse res{status::ok, 11};
    res.set(field::content_type, "application/json");
    std::string& body = res.body();
    body.reserve(48 + p->email.size() + p->name.size() + p->role.size());
    body += "{\"id\":";
    body += std::to_string(p->user_id);
    body += ",\"email\":\"";
    append_json_escaped(body, p->email);
    body += "\",\"name\":\"";
    append_json_escaped(body, p->name);
    body += "\",\"role\":\"";
    append_json_escaped(body, p->role);
    body += "\"}";
    ex->respond(std::move(res));
  }

 private:
  static void respond_sign_in_error(net::Exchange& ex, const auth::SignInResult& r) {
    if (r.status.code() != ErrorCode::kResourceExhausted) return respond_status(ex, r.status);
    auto res = net::make_problem(status::too_many_requests, r.status.detail());
    res.set(field::retry_after, std::to_string(r.retry_after_s));
    ex.respond(std::move(res));
  }

  AuthDeps d_;
};

net::RouteSpec register_spec() {
  return {
      .operation_id = "register",
      .summary = "Create an account (role user); off when auth.open_registration is false",
      .tag = "auth",
      .action = "public",
      .request_schema = with_account_rules(object_schema(
          {{"email", "string"}, {"password", "string"}, {"name", "string"}, {"username", "string"}},
          {"email", "password"})),
      .responses = {{201, "Created", user_schema()},
                    problem_response(403, "Registration is closed"),
                    problem_response(409,
                                     "Email taken (in any case or Unicode normal form), or "
                                     "username taken (in any case; errors names username)"),
                    problem_response(422, "Invalid email, password, name or username")}};
}

net::RouteSpec login_spec() {
  json::value signed_in = json::object{{"type", "object"},
                                       {"required", {"token", "expires_at", "user"}},
                                       {"properties",
                                        {{"token", {{"type", "string"}}},
                                         {"expires_at", {{"type", "string"}}},
                                         {"user", user_schema()}}}};
  return {.operation_id = "login",
          .summary = "Sign in with email and password (JSON or form); sets the session cookie",
          .tag = "auth",
          .action = "public",
          .request_schema =
              object_schema({{"email", "string"}, {"password", "string"}}, {"email", "password"}),
          .responses = {{200, "Signed in", std::move(signed_in)},
                        problem_response(401, "Wrong email or password"),
                        problem_response(429, "Too many failed attempts")}};
}

net::RouteSpec logout_spec() {
  return {.operation_id = "logout",
          .summary = "Revoke the token this request used and clear the cookie",
          .tag = "auth",
          .action = "self",
          .responses = {{204, "Signed out"}}};
}

net::RouteSpec me_spec() {
  return {.operation_id = "getMe",
          .summary = "The signed-in caller",
          .tag = "auth",
          .action = "self",
          .responses = {
              {200, "The caller",
               object_schema(
                   {{"id", "integer"}, {"email", "string"}, {"name", "string"}, {"role", "string"}},
                   {"id", "email", "name", "role"})}}};
}

}  // namespace

void add_auth_routes(net::Router& router, AuthDeps deps) {
  auto h = std::make_shared<const AuthHandlers>(deps);
  router.add(verb::post, "/api/v1/auth/register", register_spec(),
             bind(h, &AuthHandlers::register_account));
  router.add(verb::post, "/api/v1/auth/login", login_spec(), bind(h, &AuthHandlers::login));
  router.add(verb::post, "/api/v1/auth/logout", logout_spec(), bind(h, &AuthHandlers::logout));
  router.add(verb::get, "/api/v1/auth/me", me_spec(), bind(h, &AuthHandlers::me));
}

}  // namespace vigil::api
