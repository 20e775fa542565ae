#include "api/identity.h"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <charconv>

#include "api/json_body.h"
#include "api/openapi.h"
#include "api/schemas.h"
#include "auth/permissions.h"
#include "core/ids.h"
#include "core/logging.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using net::http::verb;
using ExchangePtr = std::shared_ptr<net::Exchange>;

namespace {

json::value user_schema() {
  return json::object{
      {"type", "object"},
      {"properties",
       {{"id", {{"type", "integer"}}},
        {"email", {{"type", "string"}}},
        {"name", {{"type", "string"}}},
        {"role", {{"type", "string"}, {"enum", json::array{"admin", "user", "watchdog"}}}},
        {"created_at", {{"type", "string"}, {"format", "date-time"}}},
        {"updated_at", {{"type", "string"}, {"format", "date-time"}}},
        {"disabled", {{"type", "boolean"}}}}}};
}

std::string session_cookie(const std::string& token, int64_t max_age, bool secure) {
  std::string c = "vigil_session=" + token +
                  "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
  if (secure) c += "; Secure";
  return c;
}

std::optional<int64_t> parse_id(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

}  // namespace

json::object user_json(const auth::User& u);

namespace {

// Hashes off the I/O threads, creates the account, answers 201 with its Location.
void create_user(const IdentityDeps& d, const ExchangePtr& ex, std::string email,
                 std::string password, std::string name, std::string role) {
  boost::asio::post(*d.blocking, [d, ex, email = std::move(email), password = std::move(password),
                                  name = std::move(name), role = std::move(role)] {
    auto user = d.users->create(email, password, name, role);
    if (!user.ok()) return respond_status(*ex, user.status());
    auto res = net::make_json(status::created, user_json(*user));
    res.set(net::http::field::location, "/api/v1/users/" + std::to_string(user->id));
    ex->respond(std::move(res));
  });
}

}  // namespace

json::object user_json(const auth::User& u) {
  return {{"id", u.id},
          {"email", u.email},
          {"name", u.name},
          {"role", u.role},
          {"created_at", u.created_at},
          {"updated_at", u.updated_at},
          {"disabled", u.disabled}};
}

void add_identity_routes(net::Router& router, IdentityDeps d) {
  // ---- register
  router.add(
      verb::post, "/api/v1/auth/register",
      {.operation_id = "register",
       .summary = "Create an account (role user); off when auth.open_registration is false",
       .tag = "auth",
       .action = "public",
       .request_schema =
           object_schema({{"email", "string"}, {"password", "string"}, {"name", "string"}},
                         {"email", "password"}),
       .responses = {{201, "Created", user_schema()},
                     {403, "Registration is closed", problem_schema_ref(),
                      "application/problem+json"},
                     {409, "Email taken", problem_schema_ref(), "application/problem+json"}}},
      [d](const ExchangePtr& ex) {
        if (!d.open_registration) {
          return ex->respond_problem(status::forbidden, "registration is closed");
        }
        auto body = read_json_object(*ex);
        if (!body) return;
        Fields f(*body);
        std::string email = f.required_string("email");
        std::string password = f.required_string("password");
        std::string name = f.optional_string("name").value_or("");
        f.reject_unknown({"email", "password", "name"});
        if (!f.ok()) return f.respond(*ex);
        create_user(d, ex, email, password, name, std::string(auth::kRoleUser));
      });

  // ---- login
  router.add(verb::post, "/api/v1/auth/login",
             {.operation_id = "login",
              .summary = "Sign in with email and password (JSON or form); sets the session cookie",
              .tag = "auth",
              .action = "public",
              .request_schema = object_schema({{"email", "string"}, {"password", "string"}},
                                              {"email", "password"}),
              .responses = {{200, "Signed in",
                             json::object{{"type", "object"},
                                          {"properties",
                                           {{"token", {{"type", "string"}}},
                                            {"expires_at", {{"type", "string"}}},
                                            {"user", user_schema()}}}}},
                            {401, "Wrong email or password", problem_schema_ref(),
                             "application/problem+json"},
                            {429, "Too many failed attempts", problem_schema_ref(),
                             "application/problem+json"}}},
             [d](const ExchangePtr& ex) {
               auto body = read_json_object(*ex, /*allow_form=*/true);
               if (!body) return;
               Fields f(*body);
               std::string email = f.required_string("email");
               std::string password = f.required_string("password");
               if (!f.ok()) return f.respond(*ex);
               std::string account = email;
               for (auto& c : account)
                 c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
               if (int wait = d.limiter->retry_after(account, ex->remote_ip())) {
                 auto res = net::make_problem(
                     status::too_many_requests,
                     "too many failed sign-ins; retry in " + std::to_string(wait) + " s");
                 res.set(net::http::field::retry_after, std::to_string(wait));
                 return ex->respond(std::move(res));
               }
               boost::asio::post(*d.blocking, [d, ex, email, password, account] {
                 auto found = d.users->get_with_hash(email);
                 bool good = found.ok() && auth::verify_password(password, found->second);
                 if (!found.ok() && found.status().code() != ErrorCode::kNotFound) {
                   return respond_status(*ex, found.status());
                 }
                 if (!found.ok()) {
                   // Spend the same time as a real check so timing does not reveal accounts.
                   static const auto dummy =
                       auth::hash_password("timing-equaliser", d.users->password_params());
                   if (dummy.ok()) (void)auth::verify_password(password, *dummy);
                 }
                 if (!good) {
                   d.limiter->record_failure(account, ex->remote_ip());
                   return ex->respond_problem(status::unauthorized, "wrong email or password");
                 }
                 const auth::User& user = found->first;
                 if (user.disabled)
                   return ex->respond_problem(status::forbidden, "the account is disabled");
                 d.limiter->record_success(account);
                 if (auth::password_needs_rehash(found->second, d.users->password_params())) {
                   auto rehashed = auth::hash_password(password, d.users->password_params());
                   if (rehashed.ok()) (void)d.users->set_password_hash(user.id, *rehashed);
                 }
                 auto issued = d.tokens->issue(user);
                 if (!issued.ok()) return respond_status(*ex, issued.status());
                 auto res = net::make_json(status::ok, {{"token", issued->token},
                                                        {"expires_at", issued->expires_at},
                                                        {"user", user_json(user)}});
                 res.set(net::http::field::set_cookie,
                         session_cookie(issued->token, d.tokens->ttl().count(), d.secure_cookie));
                 res.set(net::http::field::cache_control, "no-store");
                 ex->respond(std::move(res));
               });
             });

  // ---- logout
  router.add(verb::post, "/api/v1/auth/logout",
             {.operation_id = "logout",
              .summary = "Revoke the token this request used and clear the cookie",
              .tag = "auth",
              .action = "self",
              .responses = {{204, "Signed out"}}},
             [d](const ExchangePtr& ex) {
               const Principal* p = ex->principal();
               if (p && !p->token.empty()) {
                 if (Status s = d.tokens->revoke(p->token); !s.ok()) return respond_status(*ex, s);
               }
               net::HttpResponse res{status::no_content, 11};
               res.set(net::http::field::set_cookie, session_cookie("", 0, d.secure_cookie));
               ex->respond(std::move(res));
             });

  // ---- me
  router.add(verb::get, "/api/v1/auth/me",
             {.operation_id = "getMe",
              .summary = "The signed-in caller",
              .tag = "auth",
              .action = "self",
              .responses = {{200, "The caller",
                             object_schema({{"id", "integer"},
                                            {"email", "string"},
                                            {"name", "string"},
                                            {"role", "string"}})}}},
             [](const ExchangePtr& ex) {
               // Written by hand: S1 of the benchmarks measures this route.
               const Principal* p = ex->principal();
               net::HttpResponse res{status::ok, 11};
               res.set(net::http::field::content_type, "application/json");
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
             });

  // ---- users
  router.add(verb::get, "/api/v1/users",
             {.operation_id = "listUsers",
              .summary = "List user accounts",
              .tag = "users",
              .action = "users.read",
              .params = page_params(),
              .responses = {{200, "A page of users", list_schema(user_schema())}}},
             [d](const ExchangePtr& ex) {
               auto page = read_page(*ex);
               if (!page) return;
               auto users = d.users->list(page->cursor.value_or(0), page->limit);
               if (!users.ok()) return respond_status(*ex, users.status());
               json::array items;
               for (const auto& u : users->items) items.push_back(user_json(u));
               json::value next = users->next_after ? json::value(encode_cursor(*users->next_after))
                                                    : json::value(nullptr);
               ex->respond_json(status::ok, {{"items", std::move(items)}, {"next_cursor", next}});
             });

  router.add(
      verb::post, "/api/v1/users",
      {.operation_id = "createUser",
       .summary = "Create a user account with a role",
       .tag = "users",
       .action = "users.write",
       .request_schema = object_schema(
           {{"email", "string"}, {"password", "string"}, {"role", "string"}, {"name", "string"}},
           {"email", "password", "role"}),
       .responses = {{201, "Created", user_schema()},
                     {409, "Email taken", problem_schema_ref(), "application/problem+json"}}},
      [d](const ExchangePtr& ex) {
        auto body = read_json_object(*ex);
        if (!body) return;
        Fields f(*body);
        std::string email = f.required_string("email");
        std::string password = f.required_string("password");
        std::string role = f.required_string("role");
        std::string name = f.optional_string("name").value_or("");
        f.reject_unknown({"email", "password", "role", "name"});
        if (!f.ok()) return f.respond(*ex);
        create_user(d, ex, email, password, name, role);
      });

  // Admins may act on anyone; a user only on their own account.
  auto target_id = [](net::Exchange& ex) -> std::optional<int64_t> {
    auto id = parse_id(ex.param("id"));
    if (!id) {
      ex.respond_problem(status::not_found, "no such user");
      return std::nullopt;
    }
    const Principal* p = ex.principal();
    if (p->role != auth::kRoleAdmin && p->user_id != *id) {
      ex.respond_problem(status::forbidden, "you may only read or change your own account");
      return std::nullopt;
    }
    return id;
  };

  router.add(verb::get, "/api/v1/users/{id}",
             {.operation_id = "getUser",
              .summary = "One user account (admins: any; users: their own)",
              .tag = "users",
              .action = "users.self",
              .responses = {{200, "The user", user_schema()}}},
             [d, target_id](const ExchangePtr& ex) {
               auto id = target_id(*ex);
               if (!id) return;
               auto user = d.users->get(*id);
               if (!user.ok()) return respond_status(*ex, user.status());
               ex->respond_json(status::ok, user_json(*user));
             });

  router.add(
      verb::patch, "/api/v1/users/{id}",
      {.operation_id = "updateUser",
       .summary = "Change a user: admins any field; users their own name and password "
                  "(with current_password)",
       .tag = "users",
       .action = "users.self",
       .request_schema = object_schema({{"name", "string"},
                                        {"password", "string"},
                                        {"current_password", "string"},
                                        {"role", "string"},
                                        {"disabled", "boolean"}}),
       .responses = {{200, "The changed user", user_schema()},
                     {409, "Would leave no active admin", problem_schema_ref(),
                      "application/problem+json"}}},
      [d, target_id](const ExchangePtr& ex) {
        auto id = target_id(*ex);
        if (!id) return;
        auto body = read_json_object(*ex);
        if (!body) return;
        Fields f(*body);
        auto name = f.optional_string("name");
        auto password = f.optional_string("password");
        auto current = f.optional_string("current_password");
        auto role = f.optional_string("role");
        auto disabled = f.optional_bool("disabled");
        f.reject_unknown({"name", "password", "current_password", "role", "disabled"});
        bool is_admin = ex->principal()->role == auth::kRoleAdmin;
        if (!is_admin && (role || disabled)) {
          return ex->respond_problem(status::forbidden,
                                     "only an admin can change roles or "
                                     "disable accounts");
        }
        if (!is_admin && password && !current) f.add("current_password", "is required");
        if (role && !auth::is_valid_role(*role)) f.add("role", "must be admin, user or watchdog");
        if (!f.ok()) return f.respond(*ex);
        boost::asio::post(
            *d.blocking, [d, ex, id = *id, name, password, current, role, disabled, is_admin] {
              auto existing = d.users->get(id);
              if (!existing.ok()) return respond_status(*ex, existing.status());
              if (!is_admin && current) {
                auto with_hash = d.users->get_with_hash(existing->email);
                if (!with_hash.ok() || !auth::verify_password(*current, with_hash->second)) {
                  return ex->respond_problem(status::forbidden, "current_password is wrong");
                }
              }
              bool loses_admin = existing->role == auth::kRoleAdmin && !existing->disabled &&
                                 ((role && *role != auth::kRoleAdmin) || (disabled && *disabled));
              if (loses_admin) {
                auto admins = d.users->count_admins();
                if (!admins.ok()) return respond_status(*ex, admins.status());
                if (*admins <= 1) {
                  return ex->respond_problem(status::conflict, "this is the last active admin");
                }
              }
              Status s;
              if (name) s = d.users->set_name(id, *name);
              if (s.ok() && password) s = d.users->set_password(id, *password);
              if (s.ok() && role) s = d.users->set_role(id, *role);
              if (s.ok() && disabled) s = d.users->set_disabled(id, *disabled);
              if (s.ok() && disabled && *disabled) s = d.tokens->revoke_all(id);
              d.tokens->forget_user(id);
              d.basic->forget_user(id);
              if (!s.ok()) return respond_status(*ex, s);
              auto user = d.users->get(id);
              if (!user.ok()) return respond_status(*ex, user.status());
              ex->respond_json(status::ok, user_json(*user));
            });
      });

  router.add(verb::delete_, "/api/v1/users/{id}",
             {.operation_id = "deleteUser",
              .summary = "Delete a user account and its tokens",
              .tag = "users",
              .action = "users.write",
              .responses = {{204, "Deleted"},
                            {409, "The last active admin", problem_schema_ref(),
                             "application/problem+json"}}},
             [d](const ExchangePtr& ex) {
               auto id = parse_id(ex->param("id"));
               if (!id) return ex->respond_problem(status::not_found, "no such user");
               auto existing = d.users->get(*id);
               if (!existing.ok()) return respond_status(*ex, existing.status());
               if (existing->role == auth::kRoleAdmin && !existing->disabled) {
                 auto admins = d.users->count_admins();
                 if (!admins.ok()) return respond_status(*ex, admins.status());
                 if (*admins <= 1) {
                   return ex->respond_problem(status::conflict, "this is the last active admin");
                 }
               }
               d.tokens->forget_user(*id);
               d.basic->forget_user(*id);
               if (Status s = d.users->remove(*id); !s.ok()) return respond_status(*ex, s);
               ex->respond(net::HttpResponse{status::no_content, 11});
             });
}

void add_audit_routes(net::Router& router, store::Database& db) {
  json::value record_schema = object_schema({{"id", "integer"},
                                             {"at", "string"},
                                             {"request_id", "string"},
                                             {"user", "object"},
                                             {"method", "string"},
                                             {"path", "string"},
                                             {"status", "integer"},
                                             {"latency_us", "integer"},
                                             {"bytes_in", "integer"},
                                             {"bytes_out", "integer"},
                                             {"ip", "string"}});
  auto params = page_params();
  for (const char* p : {"user", "method", "path_prefix", "status", "since", "until"}) {
    params.push_back({p, "query"});
  }
  router.add(verb::get, "/api/v1/audit",
             {.operation_id = "listAudit",
              .summary = "Every API call, newest first; filter by user (id or email), method, "
                         "path_prefix, status, since, until (RFC 3339 or epoch ms)",
              .tag = "audit",
              .action = "audit.read",
              .params = params,
              .responses = {{200, "A page of audit records", list_schema(record_schema)}}},
             [&db](const ExchangePtr& ex) {
               auto page = read_page(*ex);
               if (!page) return;
               audit::AuditQuery q;
               q.limit = page->limit;
               q.before_id = page->cursor;
               std::vector<net::FieldError> errors;
               if (auto u = ex->query("user")) {
                 if (auto id = parse_id(*u)) {
                   q.user_id = id;
                 } else {
                   q.user_email = *u;
                 }
               }
               if (auto m = ex->query("method")) q.method = *m;
               if (auto p = ex->query("path_prefix")) q.path_prefix = *p;
               if (auto s = ex->query("status")) {
                 int v = 0;
                 auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
                 if (ec != std::errc() || ptr != s->data() + s->size() || v < 100 || v > 599) {
                   errors.push_back({"status", "must be an HTTP status code"});
                 } else {
                   q.status = v;
                 }
               }
               for (const char* name : {"since", "until"}) {
                 if (auto t = ex->query(name)) {
                   auto parsed = parse_timestamp(*t);
                   if (!parsed) {
                     errors.push_back({name, "must be RFC 3339 or epoch milliseconds"});
                   } else {
                     (std::string_view(name) == "since" ? q.since : q.until) = *parsed;
                   }
                 }
               }
               if (!errors.empty()) {
                 return ex->respond_problem(status::unprocessable_entity, "invalid filters",
                                            errors);
               }
               auto result = audit::query_audit(db, q);
               if (!result.ok()) return respond_status(*ex, result.status());
               std::string body = "{\"items\":[";
               for (size_t i = 0; i < result->items.size(); ++i) {
                 if (i) body += ',';
                 body += audit::audit_record_json(result->items[i]);
               }
               body += "],\"next_cursor\":";
               body += result->next_before ? "\"" + encode_cursor(*result->next_before) + "\""
                                           : std::string("null");
               body += "}";
               net::HttpResponse res{status::ok, 11};
               res.set(net::http::field::content_type, "application/json");
               res.body() = std::move(body);
               ex->respond(std::move(res));
             });
}

}  // namespace vigil::api
