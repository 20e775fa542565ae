// Router: method + path pattern → route. Patterns are literal segments, `{name}` parameters
// (one segment) and a final `{name*}` (the rest of the path). Literal segments win over
// parameters. Each route carries the spec the OpenAPI document is generated from, so the
// document cannot drift from the table. Routes are added before the server starts; matching is
// then read-only and thread-safe.
#pragma once

#include <boost/json/value.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http.h"
#include "net/websocket.h"

namespace vigil::net {

struct ParamSpec {
  std::string name;
  std::string in = "query";  // "query" | "path" | "header"
  std::string description;
  boost::json::value schema = boost::json::object{{"type", "string"}};
  bool required = false;
};

struct ResponseSpec {
  int status = 200;
  std::string description;
  boost::json::value schema;  // null: no body described
  std::string content_type = "application/json";
};

struct RouteSpec {
  std::string operation_id;  // unique, camelCase: "getHealth"
  std::string summary;
  std::string tag;
  // What the route does, for the permission table (auth/permissions.cpp): "public" routes
  // need no caller. Required: the app refuses to start with a route that names none.
  std::string action;
  std::vector<ParamSpec> params;      // query/header params; path params are derived
  boost::json::value request_schema;  // null: no body
  std::string request_content_type = "application/json";
  std::vector<ResponseSpec> responses;
  int64_t max_body_bytes = -1;  // -1: server.max_body_bytes
  bool hidden = false;          // left out of the OpenAPI document (static assets)
};

struct Route {
  http::verb method = http::verb::get;
  std::string pattern;
  RouteSpec spec;
  Handler handler;                        // HTTP routes
  std::shared_ptr<WsEndpoint> websocket;  // WebSocket routes (GET with Upgrade)
  std::vector<std::string> param_names;
};

struct RouteMatch {
  const Route* route = nullptr;
  std::vector<std::pair<std::string, std::string>> params;  // decoded
  bool path_known = false;  // some route has this path (→ 405 rather than 404)
  std::string allow;        // methods allowed on the path, for 405
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Adds a route; a duplicate method+pattern is a bug (asserts).
  Route& add(http::verb method, std::string pattern, RouteSpec spec, Handler handler);
  Route& add_websocket(std::string pattern, RouteSpec spec, std::shared_ptr<WsEndpoint> endpoint);
  // The route for GET and HEAD requests whose path no route has (a single-page app's own
  // routes: /models, /profile), except paths under one of `except` ("/api" covers "/api" and
  // "/api/…"), which keep their 404. Its parameter "path" is the whole path without the leading
  // '/'. At most one.
  Route& set_fallback(std::vector<std::string> except, RouteSpec spec, Handler handler);

  // `path` is the undecoded path part of the target.
  RouteMatch match(http::verb method, std::string_view path) const;
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  struct Node;
  Route& insert(std::unique_ptr<Route> route);
  bool falls_back(http::verb method, std::string_view path) const;
  std::vector<std::unique_ptr<Route>> routes_;
  std::unique_ptr<Node> root_;
  const Route* fallback_ = nullptr;
  std::vector<std::string> fallback_except_;
};

}  // namespace vigil::net
