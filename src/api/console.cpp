#include "api/console.h"

#include <zlib.h>

#include <map>

#include "api/handler.h"

namespace vigil::api {
using net::http::field;
using net::http::status;

const char* const kConsoleCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

namespace {

const char* kNotBuiltHtml = R"(<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Vigil: console not built</title></head>
<body>
<main>
<h1>The web console was not built into this binary</h1>
<p>The API works: see <a href="/docs">/docs</a>. To get the console, build it and the binary
again with <code>make build</code> (it needs Node.js and npm; <code>scripts/install-deps</code>
installs them), then restart <code>vigil serve</code>.</p>
</main>
</body>
</html>
)";

// The headers every console response carries, whatever its status.
void harden(net::HttpResponse& res) {
  res.set("Content-Security-Policy", kConsoleCsp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set(field::x_frame_options, "DENY");
  res.set("Referrer-Policy", "same-origin");
}

// A client-side route (no dot in its last segment, not under assets/), answered with
// index.html; anything else that is missing is a missing file.
bool is_page(std::string_view path) {
  if (path.starts_with("assets/")) return false;
  auto slash = path.rfind('/');
  std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return last.find('.') == std::string_view::npos;
}

// Text a browser takes compressed: scripts, styles, pages, SVG, JSON.
bool compressible(std::string_view content_type) {
  return content_type.starts_with("text/") ||
         content_type.find("javascript") != content_type.npos ||
         content_type.find("json") != content_type.npos ||
         content_type.find("svg") != content_type.npos;
}

// `data` gzipped at level 9; empty when zlib fails.
std::string gzip(std::string_view data) {
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

// Whether the request's Accept-Encoding takes gzip (and does not refuse it with q=0).
bool accepts_gzip(const net::HttpRequest& req) {
  auto h = req.find(field::accept_encoding);
  if (h == req.end()) return false;
  std::string_view v = h->value();
  for (size_t pos = 0; pos < v.size();) {
    size_t end = v.find(',', pos);
    std::string_view item = v.substr(pos, end == v.npos ? v.npos : end - pos);
    pos = end == v.npos ? v.size() : end + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    std::string_view coding = item.substr(0, item.find(';'));
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding != "gzip" && coding != "*") continue;
    auto q = item.find("q=");
    if (q != item.npos && item.substr(q + 2).starts_with("0") &&
        item.substr(q + 2).find_first_of("123456789") == item.npos) {
      return false;
    }
    return true;
  }
  return false;
}

class ConsoleHandlers {
 public:
  // The compressible files are gzipped once, here: a first load then carries about a third of
  // the bytes (S12).
  explicit ConsoleHandlers(ConsoleDeps d) : d_(d) {
    for (const auto& f : d_.files) {
      if (f.data.size() < 1024 || !compressible(f.content_type)) continue;
      std::string z = gzip(f.data);
      if (!z.empty() && z.size() < f.data.size()) gzipped_.emplace(&f, std::move(z));
    }
  }

  void get(const ExchangePtr& ex) const {
    std::string_view path = ex->param("path");
    if (d_.files.empty()) return answer(*ex, html(status::service_unavailable, kNotBuiltHtml));
    const embedded::File* file = embedded::find(d_.files, path.empty() ? "index.html" : path);
    if (!file && is_page(path)) file = embedded::find(d_.files, "index.html");
    if (!file) {
      auto res = net::make_problem(status::not_found, "no such file in the console");
      return answer(*ex, std::move(res));
    }
    net::HttpResponse res{status::ok, 11};
    res.set(field::content_type, file->content_type);
    res.set(field::cache_control,
            path.starts_with("assets/") ? "public, max-age=31536000, immutable" : "no-cache");
    auto z = gzipped_.find(file);
    if (z != gzipped_.end()) {
      res.set(field::vary, "Accept-Encoding");
      if (accepts_gzip(ex->request())) {
        res.set(field::content_encoding, "gzip");
        res.body() = z->second;
        return answer(*ex, std::move(res));
      }
    }
    res.body().assign(file->data.data(), file->data.size());
    answer(*ex, std::move(res));
  }

 private:
  std::map<const embedded::File*, std::string> gzipped_;

  static net::HttpResponse html(status s, std::string_view body) {
    net::HttpResponse res{s, 11};
    res.set(field::content_type, "text/html; charset=utf-8");
    res.set(field::cache_control, "no-cache");
    res.body() = body;
    return res;
  }

  static void answer(net::Exchange& ex, net::HttpResponse res) {
    harden(res);
    ex.respond(std::move(res));
  }

  ConsoleDeps d_;
};

}  // namespace

void add_console_routes(net::Router& router, ConsoleDeps deps) {
  auto h = std::make_shared<const ConsoleHandlers>(deps);
  router.set_fallback({"/api", "/v2", "/docs", "/metrics", "/healthz", "/readyz", "/openapi.json"},
                      {.summary = "the web console", .action = "public", .hidden = true},
                      bind(h, &ConsoleHandlers::get));
}

}  // namespace vigil::api
