#include "api/auth_middleware.h"

#include <sodium.h>

#include "api/handler.h"
#include "auth/permissions.h"
#include "core/strings.h"

namespace vigil::api {
using net::http::status;

namespace {

// What the request carries, in the order the contract reads it.
struct Credentials {
  enum class Kind { kNone, kMalformed, kBearer, kCookie, kBasic } kind = Kind::kNone;
  std::string_view token;  // bearer, cookie
  std::string email;       // basic
  std::string password;    // basic
};

Credentials basic_credentials(std::string_view encoded) {
  Credentials c{Credentials::Kind::kMalformed};
  std::string raw(encoded.size(), '\0');
  size_t len = 0;
  if (encoded.size() > 2048 ||
      sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), encoded.data(),
                        encoded.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return c;
  }
  raw.resize(len);
  auto colon = raw.find(':');
  if (colon == std::string::npos) return c;
  c.kind = Credentials::Kind::kBasic;
  c.email = raw.substr(0, colon);
  c.password = raw.substr(colon + 1);
  return c;
}

Credentials credentials_of(const net::HttpRequest& req) {
  auto authz = req[net::http::field::authorization];
  std::string_view header(authz.data(), authz.size());
  auto scheme_is = [&](std::string_view scheme) {  // "Bearer " as sent, else in any case
    return header.size() > scheme.size() &&
           (header.starts_with(scheme) || iequals(header.substr(0, scheme.size()), scheme));
  };
  if (scheme_is("Bearer ")) return {Credentials::Kind::kBearer, header.substr(7)};
  if (scheme_is("Basic ")) return basic_credentials(header.substr(6));
  if (!header.empty()) return {Credentials::Kind::kMalformed};
  auto cookie = req[net::http::field::cookie];
  std::string_view token =
      cookie_value(std::string_view(cookie.data(), cookie.size()), "vigil_session");
  if (!token.empty()) return {Credentials::Kind::kCookie, token};
  return {};
}

// The principal's scheme and token, once a token resolved.
void set_token(auth::Resolved& r, const Credentials& c) {
  if (r.outcome != auth::AuthOutcome::kOk) return;
  r.principal.scheme = c.kind == Credentials::Kind::kBearer ? "bearer" : "cookie";
  r.principal.token.assign(c.token.data(), c.token.size());
}

}  // namespace

std::string_view cookie_value(std::string_view header, std::string_view name) {
  size_t pos = 0;
  while (pos < header.size()) {
    while (pos < header.size() && (header[pos] == ' ' || header[pos] == ';')) ++pos;
    size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = header.substr(pos, end - pos);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    pos = end;
  }
  return {};
}

AuthMiddleware::AuthMiddleware(auth::AccountService& accounts, auth::TokenService& tokens,
                               auth::BasicAuthCache& basic, BlockingPool& blocking)
    : accounts_(accounts), tokens_(tokens), basic_(basic), blocking_(blocking) {}

auth::Resolved AuthMiddleware::basic(const std::string& email, const std::string& password,
                                     const std::string& remote_ip) {
  auth::Resolved r{auth::AuthOutcome::kInvalid, {}};
  std::string key = basic_.key(email, password);
  if (basic_.lookup(key, r.principal)) {
    r.outcome = auth::AuthOutcome::kOk;
    r.principal.scheme = "basic";
    return r;
  }
  // The sign-in checks: shared failure limits, the timing equaliser, the rehash.
  auto checked = accounts_.check_password(email, password, remote_ip);
  switch (checked.status.code()) {
    case ErrorCode::kOk: break;
    case ErrorCode::kUnauthenticated: return r;
    case ErrorCode::kPermissionDenied: r.outcome = auth::AuthOutcome::kDisabled; return r;
    case ErrorCode::kResourceExhausted:
      r.outcome = auth::AuthOutcome::kThrottled;
      r.retry_after_s = checked.retry_after_s;
      return r;
    default: r.outcome = auth::AuthOutcome::kUnavailable; return r;
  }
  const auth::User& u = checked.signed_in->user;
  r.outcome = auth::AuthOutcome::kOk;
  r.principal = {u.id, u.email, u.role, u.name, "basic", {}};
  basic_.store(key, r.principal);
  return r;
}

bool AuthMiddleware::authenticate_cached(const net::HttpRequest& req, auth::Resolved& out) {
  Credentials c = credentials_of(req);
  switch (c.kind) {
    case Credentials::Kind::kNone: out.outcome = auth::AuthOutcome::kMissing; return true;
    case Credentials::Kind::kMalformed: out.outcome = auth::AuthOutcome::kInvalid; return true;
    case Credentials::Kind::kBearer:
    case Credentials::Kind::kCookie:
      if (!tokens_.resolve_cached(c.token, out)) return false;
      set_token(out, c);
      return true;
    case Credentials::Kind::kBasic:
      if (!basic_.lookup(basic_.key(c.email, c.password), out.principal)) return false;
      out.outcome = auth::AuthOutcome::kOk;
      out.principal.scheme = "basic";
      return true;
  }
  return false;
}

auth::Resolved AuthMiddleware::authenticate(const net::HttpRequest& req,
                                            const std::string& remote_ip) {
  Credentials c = credentials_of(req);
  auth::Resolved r;
  switch (c.kind) {
    case Credentials::Kind::kNone: break;
    case Credentials::Kind::kMalformed: r.outcome = auth::AuthOutcome::kInvalid; break;
    case Credentials::Kind::kBearer:
    case Credentials::Kind::kCookie:
      r = tokens_.resolve(c.token);
      set_token(r, c);
      break;
    case Credentials::Kind::kBasic: r = basic(c.email, c.password, remote_ip); break;
  }
  return r;
}

void AuthMiddleware::admit(net::Exchange& ex, auth::Resolved&& r) {
  const std::string& action = ex.route()->spec.action;
  bool is_public = action == "public";
  if (r.outcome == auth::AuthOutcome::kOk) {
    bool allowed = is_public || auth::role_allows(r.principal.role, action);
    std::string detail = allowed
                             ? std::string()
                             : "the " + r.principal.role + " role may not do this (" + action + ")";
    ex.set_principal(std::move(r.principal));
    if (!allowed) ex.respond_problem(status::forbidden, detail);
    return;
  }
  if (is_public) return;
  switch (r.outcome) {
    case auth::AuthOutcome::kExpired:
      return ex.respond_problem(status::forbidden, "the token has expired; sign in again");
    case auth::AuthOutcome::kDisabled:
      return ex.respond_problem(status::forbidden, "the account is disabled");
    case auth::AuthOutcome::kUnavailable:
      return ex.respond_problem(status::service_unavailable,
                                "credentials cannot be checked: the store is unavailable; retry");
    case auth::AuthOutcome::kThrottled: {
      auto res =
          net::make_problem(status::too_many_requests, "too many failed sign-ins; retry in " +
                                                           std::to_string(r.retry_after_s) + " s");
      res.set(net::http::field::retry_after, std::to_string(r.retry_after_s));
      return ex.respond(std::move(res));
    }
    default: break;
  }
  // Every 401 says how to authenticate (RFC 9110 §11.6.1).
  auto res = net::make_problem(status::unauthorized,
                               r.outcome == auth::AuthOutcome::kMissing
                                   ? "sign in: send a Bearer token, the vigil_session cookie or "
                                     "Basic credentials"
                                   : "invalid credentials");
  res.set(net::http::field::www_authenticate, "Bearer realm=\"vigil\"");
  ex.respond(std::move(res));
}

net::Flow AuthMiddleware::before(const std::shared_ptr<net::Exchange>& ex) {
  if (!ex->route()) return net::Flow::kNext;
  auth::Resolved r;
  if (authenticate_cached(ex->request(), r)) {
    admit(*ex, std::move(r));
    return net::Flow::kNext;
  }
  bool queued = blocking_.try_post([this, ex] {
    admit(*ex, authenticate(ex->request(), ex->remote_ip()));
    if (!ex->responded()) ex->resume();
  });
  if (!queued) {
    respond_busy(*ex);
    return net::Flow::kNext;
  }
  return net::Flow::kSuspended;
}

}  // namespace vigil::api
