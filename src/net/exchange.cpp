#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>

#include <boost/url/encoding_opts.hpp>
#include <boost/url/pct_string_view.hpp>
#include <cerrno>
#include <cstring>

#include "core/json_text.h"
#include "core/strings.h"
#include "net/http.h"
#include "net/middleware.h"

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
  res.body() = json_text(body);
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

std::optional<std::string> decode_component(std::string_view s, bool plus_is_space) {
  auto pct = boost::urls::make_pct_string_view(s);
  if (!pct) return std::nullopt;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = plus_is_space;
  return pct->decode(opts);
}

Expected<std::vector<std::pair<std::string, std::string>>> decode_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = decode_component(pair.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::optional<std::string>(std::string())
                                              : decode_component(pair.substr(eq + 1), true);
    if (!key || !value) return malformed("", "an invalid percent-escape in " + std::string(pair));
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

std::optional<HeadError> head_error(const HttpRequest& request) {
  const size_t hosts = request.count(http::field::host);
  if (hosts > 1 || (hosts == 0 && request.version() >= 11)) {
    return HeadError{http::status::bad_request, "HTTP/1.1 needs exactly one Host header"};
  }
  for (const auto& f : request) {
    if (f.name() != http::field::transfer_encoding) continue;
    std::string_view value = trim(std::string_view(f.value().data(), f.value().size()));
    if (!iequals(value, "chunked")) {
      return HeadError{http::status::not_implemented,
                       "only the chunked transfer coding is supported, not " + std::string(value)};
    }
  }
  return std::nullopt;
}

bool valid_target(std::string_view target) {
  // Most targets have no escape at all: one memchr instead of Boost.URL's byte loop.
  if (target.find('%') == std::string_view::npos) return true;
  return boost::urls::make_pct_string_view(target).has_value();
}

std::optional<std::string> Exchange::query(std::string_view name) const {
  auto pairs = decode_query(query_);  // the session answered 400 to an invalid target
  if (!pairs.ok()) return std::nullopt;
  for (auto& [key, value] : *pairs) {
    if (key == name) return std::move(value);
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

void Exchange::resume() {
  if (runner_ == nullptr) {
    respond(make_problem(http::status::internal_server_error, "internal error"));
    return;
  }
  runner_->resume_chain(shared_from_this(), next_middleware_);
}

void Exchange::respond(HttpResponse response) { finish(std::move(response), std::nullopt); }

void Exchange::respond_file(HttpResponse response, FileBody file) {
  response.body().clear();
  response.content_length(file.length);
  finish(std::move(response), std::move(file));
}

void Exchange::finish(HttpResponse response, std::optional<FileBody> file) {
  if (responded_.exchange(true, std::memory_order_acq_rel)) return;
  finished_ = std::chrono::steady_clock::now();
  if (middleware_) {
    for (auto it = middleware_->rbegin(); it != middleware_->rend(); ++it) {
      (*it)->after(*this, response);
    }
  }
  response.set("X-Request-Id", request_id_);
  body_reservation_.release();  // before the client can see the answer and send the next body
  sink_(std::move(response), std::move(file));
}

uint64_t Exchange::body_bytes(const HttpResponse& response) {
  if (!response.body().empty()) return response.body().size();
  auto it = response.find(http::field::content_length);
  if (it == response.end()) return 0;
  return parse_int<uint64_t>(std::string_view(it->value().data(), it->value().size())).value_or(0);
}

Expected<FileBody> open_file_body(const std::string& path, uint64_t offset, uint64_t length) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return not_found("cannot open " + path + ": " + std::strerror(errno));
  auto owned = std::shared_ptr<const int>(new int(fd), [](const int* p) {
    ::close(*p);
    delete p;
  });
  struct stat st {};
  if (::fstat(fd, &st) != 0) return not_found("cannot read " + path + ": " + std::strerror(errno));
  const auto size = static_cast<uint64_t>(st.st_size);
  if (offset > size || length > size - offset) {
    return invalid_argument("the range passes the end of " + path);
  }
  return FileBody{std::move(owned), offset, length};
}

void Exchange::respond_json(http::status status, const boost::json::value& body) {
  respond(make_json(status, body));
}

void Exchange::respond_json_text(http::status status, std::string body) {
  HttpResponse res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  respond(std::move(res));
}

void Exchange::respond_problem(http::status status, std::string_view detail,
                               const std::vector<FieldError>& errors) {
  respond(make_problem(status, detail, errors));
}

}  // namespace vigil::net
