#include "api/console.h"

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

class ConsoleHandlers {
 public:
  explicit ConsoleHandlers(ConsoleDeps d) : d_(d) {}

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
    res.body().assign(file->data.data(), file->data.size());
    answer(*ex, std::move(res));
  }

 private:
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
