#include "cli/remote.h"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/json_text.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.0.0"
#endif

namespace vigil::cli {
namespace json = boost::json;

void add_remote_options(CLI::App& cmd, RemoteOptions& o) {
  cmd.add_option("--url", o.url,
                 "The server (env VIGIL_URL; default " + std::string(kDefaultUrl) + ")");
  cmd.add_option("--token", o.token,
                 "Bearer token to call with (env VIGIL_TOKEN; POST /api/v1/auth/login gives one)");
  cmd.add_option("--cacert", o.cacert,
                 "https: trust the server's certificate from this PEM file (env VIGIL_CACERT)");
  cmd.add_flag("--json", o.json, "Print the server's JSON answer as it came");
}

namespace {

// A flag's value, else the environment's, else `fallback`.
std::string flag_or_env(const std::string& flag, const char* env, const char* fallback = "") {
  if (!flag.empty()) return flag;
  const char* v = std::getenv(env);
  return v && *v ? std::string(v) : std::string(fallback);
}

// The flags with the environment's values (and the default URL) filled in.
RemoteOptions resolved(const RemoteOptions& flags) {
  RemoteOptions o = flags;
  o.url = flag_or_env(flags.url, "VIGIL_URL", kDefaultUrl);
  o.token = flag_or_env(flags.token, "VIGIL_TOKEN");
  o.cacert = flag_or_env(flags.cacert, "VIGIL_CACERT");
  return o;
}

// `text` of `content_type` (empty: no body).
Expected<Answer> exchange_text(const RemoteOptions& o, boost::beast::http::verb method,
                               const std::string& target, const std::string& text,
                               const std::string& content_type,
                               const std::map<std::string, std::string>& extra = {}) {
  auto client = client::HttpClient::create(
      o.url, {.token = o.token, .ca_file = o.cacert, .user_agent = "vigil-cli/" VIGIL_VERSION});
  if (!client.ok()) return client.status();
  std::map<std::string, std::string> headers = extra;
  headers["Accept"] = "application/json";
  if (!content_type.empty()) headers["Content-Type"] = content_type;
  client::Response r = (*client)->request(method, target, text, headers);
  if (Status s = client::response_status(r); !s.ok()) return s;
  Answer out{.value = r.json(), .raw = std::move(r.body)};
  if (out.value.is_null() && !out.raw.empty()) {
    return internal_error("the server's answer is not JSON");
  }
  return out;
}

Expected<Answer> exchange(const RemoteOptions& o, boost::beast::http::verb method,
                          const std::string& target, const json::value& body,
                          const std::map<std::string, std::string>& extra = {}) {
  if (body.is_null()) return exchange_text(o, method, target, {}, {}, extra);
  return exchange_text(o, method, target, json::serialize(body), "application/json", extra);
}

// Prints why an exchange failed and sets exit_code.
void report_failure(const RemoteOptions& o, const Status& s, int& exit_code) {
  std::string hint;
  if (s.code() == ErrorCode::kUnauthenticated && o.token.empty()) {
    hint = " (no token: pass --token or set VIGIL_TOKEN)";
  }
  std::fprintf(stderr, "vigil: %s%s\n", s.message().c_str(), hint.c_str());
  exit_code = exit_code_for(s);
}

}  // namespace

int exit_code_for(const Status& s) {
  switch (s.code()) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kInternal:
    case ErrorCode::kFailedPrecondition:  // a redirect: the URL is wrong, not the input
      return 1;
    default: return 2;
  }
}

std::optional<Answer> call(const RemoteOptions& flags, boost::beast::http::verb method,
                           const std::string& target, int& exit_code, const json::value& body,
                           const std::map<std::string, std::string>& headers) {
  const RemoteOptions o = resolved(flags);
  auto answer = exchange(o, method, target, body, headers);
  if (answer.ok()) return std::move(*answer);
  report_failure(o, answer.status(), exit_code);
  return std::nullopt;
}

std::optional<Answer> call_text(const RemoteOptions& flags, boost::beast::http::verb method,
                                const std::string& target, int& exit_code, const std::string& body,
                                const std::string& content_type) {
  const RemoteOptions o = resolved(flags);
  auto answer = exchange_text(o, method, target, body, content_type);
  if (answer.ok()) return std::move(*answer);
  report_failure(o, answer.status(), exit_code);
  return std::nullopt;
}

std::optional<Answer> call_quietly(const RemoteOptions& flags, boost::beast::http::verb method,
                                   const std::string& target) {
  auto answer = exchange(resolved(flags), method, target, nullptr);
  if (!answer.ok()) return std::nullopt;
  return std::move(*answer);
}

std::optional<std::vector<std::pair<std::string, std::string>>> read_labels(
    const std::vector<std::string>& labels, int& exit_code) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& l : labels) {
    auto eq = l.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "vigil: --label expects KEY=VALUE, got '%s'\n", l.c_str());
      exit_code = 2;
      return std::nullopt;
    }
    out.emplace_back(l.substr(0, eq), l.substr(eq + 1));
  }
  return out;
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (value.empty()) continue;
    out += (out.empty() ? "?" : "&") + key + "=" +
           boost::urls::encode(value, boost::urls::unreserved_chars);
  }
  return out;
}

std::string path_segment(const std::string& s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

const json::value& member(const json::value& object, const char* name) {
  static const json::value kNull;
  const json::value* v = object.is_object() ? object.as_object().if_contains(name) : nullptr;
  return v ? *v : kNull;
}

std::string text(const json::value& object, const char* name) {
  const json::value& v = member(object, name);
  if (v.is_null()) return "-";
  if (v.is_string()) return std::string(v.as_string());
  return json_text(v);  // 1.5, not boost's 1.5E0
}

std::string model_text(const json::value& model) {
  if (!model.is_object()) return "-";
  return text(model, "name") + ":" + text(model, "version");
}

std::string labels_text(const json::value& object) {
  const json::value& labels = member(object, "labels");
  std::string out;
  if (labels.is_object()) {
    for (const auto& kv : labels.as_object()) {
      out += (out.empty() ? "" : ",") + std::string(kv.key()) + "=" +
             (kv.value().is_string() ? std::string(kv.value().as_string())
                                     : json::serialize(kv.value()));
    }
  }
  return out.empty() ? "-" : out;
}

void Table::print() const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

bool print_json(const RemoteOptions& o, const Answer& answer) {
  if (o.json) std::printf("%s\n", answer.raw.c_str());
  return o.json;
}

void print_page(const RemoteOptions& o, const Answer& page, Table table,
                std::vector<std::string> (*row)(const json::value& item)) {
  if (print_json(o, page)) return;
  const json::object* obj = page.value.if_object();
  const json::value* items = obj ? obj->if_contains("items") : nullptr;
  if (items && items->is_array()) {
    for (const auto& item : items->as_array()) table.add(row(item));
  }
  table.print();
  if (obj && obj->contains("next_cursor") && obj->at("next_cursor").is_string()) {
    std::fprintf(stderr, "more: add --cursor %s\n",
                 std::string(obj->at("next_cursor").as_string()).c_str());
  }
}

}  // namespace vigil::cli
