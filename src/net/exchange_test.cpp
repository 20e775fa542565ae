#include <gtest/gtest.h>

#include "net/http.h"

namespace vigil::net {
namespace {

std::shared_ptr<Exchange> make(const std::string& target) {
  HttpRequest req{http::verb::get, target, 11};
  return std::make_shared<Exchange>(std::move(req), "127.0.0.1", "rid", [](HttpResponse&&) {});
}

TEST(ExchangeTest, QueryParametersAreDecoded) {
  auto ex = make("/a/b?path_prefix=/api/v1/users&limit=5&q=a%20b&flag&empty=");
  EXPECT_EQ(ex->path(), "/a/b");
  EXPECT_EQ(ex->query("limit").value_or("?"), "5");
  EXPECT_EQ(ex->query("path_prefix").value_or("?"), "/api/v1/users");
  EXPECT_EQ(ex->query("q").value_or("?"), "a b");
  EXPECT_EQ(ex->query("flag").value_or("?"), "");
  EXPECT_EQ(ex->query("empty").value_or("?"), "");
  EXPECT_FALSE(ex->query("missing").has_value());
  ex->respond(make_problem(http::status::ok, "done"));
}

TEST(ExchangeTest, FirstResponseWinsAndCarriesTheRequestId) {
  HttpResponse got;
  int calls = 0;
  HttpRequest req{http::verb::get, "/", 11};
  auto ex = std::make_shared<Exchange>(std::move(req), "ip", "rid-1", [&](HttpResponse&& r) {
    got = std::move(r);
    ++calls;
  });
  ex->respond_problem(http::status::not_found, "first");
  ex->respond_problem(http::status::conflict, "second");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got.result(), http::status::not_found);
  EXPECT_EQ(got["X-Request-Id"], "rid-1");
}

}  // namespace
}  // namespace vigil::net
