#include "net/router.h"

#include <gtest/gtest.h>

namespace vigil::net {
namespace {

Handler noop() {
  return [](const std::shared_ptr<Exchange>&) {};
}

TEST(RouterTest, LiteralsParamsAndTails) {
  Router r;
  r.add(http::verb::get, "/api/v1/models", {}, noop());
  r.add(http::verb::get, "/api/v1/models/{name}", {}, noop());
  r.add(http::verb::get, "/api/v1/models/{name}/versions/{v}", {}, noop());
  r.add(http::verb::get, "/api/v1/models/special", {}, noop());
  r.add(http::verb::get, "/static/{path*}", {}, noop());

  auto m = r.match(http::verb::get, "/api/v1/models/iris/versions/3");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/v1/models/{name}/versions/{v}");
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"name", "iris"}));
  EXPECT_EQ(m.params[1].second, "3");

  m = r.match(http::verb::get, "/api/v1/models/special");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/v1/models/special");

  m = r.match(http::verb::get, "/static/js/app.js");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.back().second, "js/app.js");

  EXPECT_EQ(r.match(http::verb::get, "/api/v1/models/iris/versions").route, nullptr);
  EXPECT_EQ(r.match(http::verb::get, "/api/v1/models//versions/1").route, nullptr);
  EXPECT_EQ(r.match(http::verb::get, "/nothing").route, nullptr);
}

TEST(RouterTest, PercentDecodedParams) {
  Router r;
  r.add(http::verb::get, "/d/{name}", {}, noop());
  auto m = r.match(http::verb::get, "/d/a%20b");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params[0].second, "a b");
}

TEST(RouterTest, MethodMismatchKnowsThePath) {
  Router r;
  r.add(http::verb::get, "/x/{id}", {}, noop());
  r.add(http::verb::delete_, "/x/{id}", {}, noop());
  auto m = r.match(http::verb::post, "/x/1");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_known);
  EXPECT_EQ(m.allow, "GET, DELETE");
  EXPECT_FALSE(r.match(http::verb::post, "/y").path_known);
}

TEST(RouterTest, HeadFallsBackToGet) {
  Router r;
  r.add(http::verb::get, "/h", {}, noop());
  auto m = r.match(http::verb::head, "/h");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, http::verb::get);
}

TEST(RouterTest, FallbackTakesUnknownGetPathsOutsideItsExceptions) {
  Router r;
  r.add(http::verb::get, "/api/v1/models", {}, noop());
  r.add(http::verb::post, "/api/v1/auth/login", {}, noop());
  r.add(http::verb::get, "/docs/{file*}", {}, noop());
  r.set_fallback({"/api", "/docs", "/openapi.json"}, {}, noop());

  for (std::string_view path : {"/", "/models", "/models/iris/versions", "/assets/app-1.js"}) {
    auto m = r.match(http::verb::get, path);
    ASSERT_NE(m.route, nullptr) << path;
    EXPECT_EQ(m.route->pattern, "/{path*}") << path;
    EXPECT_EQ(m.params.at(0).second, path.substr(1)) << path;
  }
  EXPECT_NE(r.match(http::verb::head, "/models").route, nullptr);
  // Routes that exist win, a method mismatch stays 405, and the exceptions stay 404.
  EXPECT_EQ(r.match(http::verb::get, "/api/v1/models").route->pattern, "/api/v1/models");
  EXPECT_EQ(r.match(http::verb::get, "/docs/x.css").route->pattern, "/docs/{file*}");
  auto login = r.match(http::verb::get, "/api/v1/auth/login");
  EXPECT_EQ(login.route, nullptr);
  EXPECT_EQ(login.allow, "POST");
  for (std::string_view path : {"/api", "/api/v1/nothing", "/openapi.json"}) {
    auto m = r.match(http::verb::get, path);
    EXPECT_EQ(m.route, nullptr) << path;
    EXPECT_FALSE(m.path_known) << path;
  }
  EXPECT_NE(r.match(http::verb::get, "/apiary").route, nullptr);
  // Only reads fall back: a POST to a page is 404 as before.
  EXPECT_EQ(r.match(http::verb::post, "/models").route, nullptr);
  EXPECT_FALSE(r.match(http::verb::post, "/models").path_known);
}

}  // namespace
}  // namespace vigil::net
