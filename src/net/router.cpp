#include "net/router.h"

#include <cassert>
#include <map>

namespace vigil::net {

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literal;
  std::unique_ptr<Node> param;      // `{name}`
  std::vector<Route*> routes;       // routes ending here
  std::vector<Route*> tail_routes;  // `{name*}` routes hanging here
};

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool is_param(std::string_view seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

// A path segment decoded; as it is when an escape is invalid (the session refuses such targets
// before routing; this keeps match() total).
std::string decode(std::string_view s) {
  return decode_component(s, false).value_or(std::string(s));
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

Route& Router::add(http::verb method, std::string pattern, RouteSpec spec, Handler handler) {
  auto route = std::make_unique<Route>();
  route->method = method;
  route->pattern = std::move(pattern);
  route->spec = std::move(spec);
  route->handler = std::move(handler);
  return insert(std::move(route));
}

Route& Router::add_websocket(std::string pattern, RouteSpec spec,
                             std::shared_ptr<WsEndpoint> endpoint) {
  auto route = std::make_unique<Route>();
  route->method = http::verb::get;
  route->pattern = std::move(pattern);
  route->spec = std::move(spec);
  route->websocket = std::move(endpoint);
  return insert(std::move(route));
}

Route& Router::set_fallback(std::vector<std::string> except, RouteSpec spec, Handler handler) {
  assert(!fallback_ && "one fallback route");
  auto route = std::make_unique<Route>();
  route->method = http::verb::get;
  route->pattern = "/{path*}";
  route->param_names = {"path"};
  route->spec = std::move(spec);
  route->handler = std::move(handler);
  fallback_ = route.get();
  fallback_except_ = std::move(except);
  routes_.push_back(std::move(route));
  return *routes_.back();
}

bool Router::falls_back(http::verb method, std::string_view path) const {
  if (!fallback_ || (method != http::verb::get && method != http::verb::head)) return false;
  for (const auto& prefix : fallback_except_) {
    if (path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/')) {
      return false;
    }
  }
  return true;
}

Route& Router::insert(std::unique_ptr<Route> route) {
  Node* node = root_.get();
  auto segs = split_path(route->pattern);
  for (size_t i = 0; i < segs.size(); ++i) {
    auto seg = segs[i];
    if (is_param(seg)) {
      std::string name(seg.substr(1, seg.size() - 2));
      if (!name.empty() && name.back() == '*') {
        assert(i + 1 == segs.size() && "{name*} must be the last segment");
        name.pop_back();
        route->param_names.push_back(name);
        for (auto* r : node->tail_routes) {
          assert(r->method != route->method && "duplicate route");
          (void)r;
        }
        node->tail_routes.push_back(route.get());
        routes_.push_back(std::move(route));
        return *routes_.back();
      }
      route->param_names.push_back(name);
      if (!node->param) node->param = std::make_unique<Node>();
      node = node->param.get();
    } else {
      auto it = node->literal.find(seg);
      if (it == node->literal.end()) {
        it = node->literal.emplace(std::string(seg), std::make_unique<Node>()).first;
      }
      node = it->second.get();
    }
  }
  for (auto* r : node->routes) {
    assert(r->method != route->method && "duplicate route");
    (void)r;
  }
  node->routes.push_back(route.get());
  routes_.push_back(std::move(route));
  return *routes_.back();
}

RouteMatch Router::match(http::verb method, std::string_view path) const {
  RouteMatch result;
  auto segs = split_path(path);
  std::vector<std::string_view> values;
  // Depth-first: literal before parameter; remember the deepest tail route candidate.
  const std::vector<Route*>* found = nullptr;
  std::vector<std::string_view> found_values;
  const std::vector<Route*>* tail = nullptr;
  std::vector<std::string_view> tail_values;
  std::string_view tail_rest;

  auto walk = [&](auto&& self, const Node* node, size_t i) -> bool {
    if (!node->tail_routes.empty() && i < segs.size()) {
      tail = &node->tail_routes;
      tail_values = values;
      size_t offset = static_cast<size_t>(segs[i].data() - path.data());
      tail_rest = path.substr(offset);
    }
    if (i == segs.size()) {
      if (!node->routes.empty()) {
        found = &node->routes;
        found_values = values;
        return true;
      }
      return false;
    }
    if (auto it = node->literal.find(segs[i]); it != node->literal.end()) {
      if (self(self, it->second.get(), i + 1)) return true;
    }
    if (node->param && !segs[i].empty()) {
      values.push_back(segs[i]);
      if (self(self, node->param.get(), i + 1)) return true;
      values.pop_back();
    }
    return false;
  };
  walk(walk, root_.get(), 0);

  const std::vector<Route*>* candidates = found;
  std::vector<std::string_view>* vals = &found_values;
  bool is_tail = false;
  if (!candidates && tail) {
    candidates = tail;
    vals = &tail_values;
    is_tail = true;
  }
  if (!candidates) {
    if (falls_back(method, path)) {
      result.route = fallback_;
      result.path_known = true;
      result.params.emplace_back("path", decode(path.substr(path.empty() ? 0 : 1)));
    }
    return result;
  }
  result.path_known = true;
  for (const Route* r : *candidates) {
    bool ok = r->method == method || (method == http::verb::head && r->method == http::verb::get);
    if (ok && (!result.route || r->method == method)) result.route = r;
    if (!result.allow.empty()) result.allow += ", ";
    result.allow += std::string(http::to_string(r->method));
  }
  if (result.route) {
    const auto& names = result.route->param_names;
    for (size_t i = 0; i < vals->size() && i < names.size(); ++i) {
      result.params.emplace_back(names[i], decode((*vals)[i]));
    }
    if (is_tail && !names.empty()) result.params.emplace_back(names.back(), decode(tail_rest));
  }
  return result;
}

}  // namespace vigil::net
