#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>
#include <boost/url/parse_query.hpp>

#include "net/http.h"

namespace vigil::net {

HttpResponse make_problem(http::status status, std::string_view detail,
                          const std::vector<FieldError>& errors, std::string_view type) {
  boost::json::object body;
  body["type"] = type;
  auto reason = http::obsolete_reason(status);
  body["title"] = std::string_view(reason.data(), reason.size());
  body["status"] = static_cast<int>(status);
  body["detail"] = detail;
  if (!errors.empty()) {
    boost::json::array list;
    for (const auto& e : errors)
      list.push_back(boost::json::object{{"field", e.field}, {"message", e.message}});
    body["errors"] = std::move(list);
  }
  HttpResponse res{status, 11};
  res.set(http::field::content_type, "application/problem+json");
  res.body() = boost::json::serialize(body);
  return res;
}

HttpResponse make_json(http::status status, const boost::json::value& body) {
  HttpResponse res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = boost::json::serialize(body);
  return res;
}

Exchange::Exchange(HttpRequest request, std::string remote_ip, std::string request_id, Sink sink)
    : request_(std::move(request)),
      remote_ip_(std::move(remote_ip)),
      request_id_(std::move(request_id)),
      started_(std::chrono::steady_clock::now()),
      sink_(std::move(sink)) {
  std::string_view target(request_.target().data(), request_.target().size());
  auto q = target.find('?');
  path_ = target.substr(0, q);
  if (q != std::string_view::npos) query_ = target.substr(q + 1);
}

Exchange::~Exchange() {
  if (!responded()) {
    spdlog::error("request {} {} was never answered (request id {})",
                  std::string(request_.method_string()), std::string(path_), request_id_);
    respond(make_problem(http::status::internal_server_error, "the request was not answered"));
  }
}

std::optional<std::string> Exchange::query(std::string_view name) const {
  if (query_.empty()) return std::nullopt;
  // Explicit (data, size): a std::string_view would convert through const char* (strlen).
  auto parsed = boost::urls::parse_query(boost::core::string_view(query_.data(), query_.size()));
  if (!parsed) return std::nullopt;
  for (auto param : *parsed) {
    if (param.key == name) return param.has_value ? std::string(param.value) : std::string();
  }
  return std::nullopt;
}

std::string_view Exchange::param(std::string_view name) const {
  for (const auto& [k, v] : params_) {
    if (k == name) return v;
  }
  return {};
}

void Exchange::set_route(const Route* route,
                         std::vector<std::pair<std::string, std::string>> params) {
  route_ = route;
  params_ = std::move(params);
}

void Exchange::respond(HttpResponse response) {
  if (responded_.exchange(true, std::memory_order_acq_rel)) return;
  for (auto it = after_hooks_.rbegin(); it != after_hooks_.rend(); ++it) (*it)(*this, response);
  response.set("X-Request-Id", request_id_);
  sink_(std::move(response));
}

void Exchange::respond_json(http::status status, const boost::json::value& body) {
  respond(make_json(status, body));
}

void Exchange::respond_problem(http::status status, std::string_view detail,
                               const std::vector<FieldError>& errors) {
  respond(make_problem(status, detail, errors));
}

}  // namespace vigil::net
