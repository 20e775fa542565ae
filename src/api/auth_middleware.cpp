#include "api/auth_middleware.h"

#include <sodium.h>

#include "auth/permissions.h"

namespace vigil::api {
using net::http::status;

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

AuthMiddleware::AuthMiddleware(auth::UserStore& users, auth::TokenService& tokens,
                               auth::BasicAuthCache& basic)
    : users_(users), tokens_(tokens), basic_(basic) {}

auth::Resolved AuthMiddleware::basic(std::string_view encoded) {
  auth::Resolved r;
  r.outcome = auth::AuthOutcome::kInvalid;
  std::string raw(encoded.size(), '\0');
  size_t len = 0;
  if (encoded.size() > 2048 ||
      sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), encoded.data(),
                        encoded.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return r;
  }
  raw.resize(len);
  auto colon = raw.find(':');
  if (colon == std::string::npos) return r;
  std::string email = raw.substr(0, colon);
  std::string password = raw.substr(colon + 1);
  std::string key = basic_.key(email, password);
  if (basic_.lookup(key, r.principal)) {
    r.outcome = auth::AuthOutcome::kOk;
    r.principal.scheme = "basic";
    return r;
  }
  auto found = users_.get_with_hash(email);
  if (!found.ok() && found.status().code() != ErrorCode::kNotFound) {
    r.outcome = auth::AuthOutcome::kUnavailable;
    return r;
  }
  if (!found.ok() || !auth::verify_password(password, found->second)) return r;
  const auth::User& u = found->first;
  if (u.disabled) {
    r.outcome = auth::AuthOutcome::kDisabled;
    return r;
  }
  r.outcome = auth::AuthOutcome::kOk;
  r.principal = {u.id, u.email, u.role, u.name, "basic", {}};
  basic_.store(key, r.principal);
  return r;
}

auth::Resolved AuthMiddleware::authenticate(const net::HttpRequest& req) {
  auto authz = req[net::http::field::authorization];
  std::string_view header(authz.data(), authz.size());
  if (header.size() > 7 && (header.substr(0, 7) == "Bearer " || header.substr(0, 7) == "bearer ")) {
    std::string_view token = header.substr(7);
    auto r = tokens_.resolve(token);
    if (r.outcome == auth::AuthOutcome::kOk) {
      r.principal.scheme = "bearer";
      r.principal.token = std::string(token);
    }
    return r;
  }
  if (header.size() > 6 && (header.substr(0, 6) == "Basic " || header.substr(0, 6) == "basic ")) {
    return basic(header.substr(6));
  }
  if (!header.empty()) return {auth::AuthOutcome::kInvalid, {}};
  auto cookie = req[net::http::field::cookie];
  std::string_view token =
      cookie_value(std::string_view(cookie.data(), cookie.size()), "vigil_session");
  if (!token.empty()) {
    auto r = tokens_.resolve(token);
    if (r.outcome == auth::AuthOutcome::kOk) {
      r.principal.scheme = "cookie";
      r.principal.token = std::string(token);
    }
    return r;
  }
  return {};
}

void AuthMiddleware::before(net::Exchange& ex) {
  const net::Route* route = ex.route();
  if (!route) return;
  const std::string& action = route->spec.action;
  bool is_public = action == "public";
  auth::Resolved r = authenticate(ex.request());
  if (r.outcome == auth::AuthOutcome::kOk) {
    if (!is_public && !auth::role_allows(r.principal.role, action)) {
      std::string detail = "the " + r.principal.role + " role may not do this (" + action + ")";
      ex.set_principal(std::move(r.principal));
      return ex.respond_problem(status::forbidden, detail);
    }
    ex.set_principal(std::move(r.principal));
    return;
  }
  if (is_public) return;
  switch (r.outcome) {
    case auth::AuthOutcome::kMissing: {
      auto res = net::make_problem(status::unauthorized,
                                   "sign in: send a Bearer token, the "
                                   "vigil_session cookie or Basic credentials");
      res.set(net::http::field::www_authenticate, "Bearer realm=\"vigil\"");
      return ex.respond(std::move(res));
    }
    case auth::AuthOutcome::kExpired:
      return ex.respond_problem(status::forbidden, "the token has expired; sign in again");
    case auth::AuthOutcome::kDisabled:
      return ex.respond_problem(status::forbidden, "the account is disabled");
    case auth::AuthOutcome::kUnavailable:
      return ex.respond_problem(status::service_unavailable,
                                "credentials cannot be checked: the store is unavailable; retry");
    default: return ex.respond_problem(status::unauthorized, "invalid credentials");
  }
}

}  // namespace vigil::api
