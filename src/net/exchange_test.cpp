#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "net/http.h"

namespace vigil::net {
namespace {

std::shared_ptr<Exchange> make(const std::string& target) {
  HttpRequest req{http::verb::get, target, 11};
  return std::make_shared<Exchange>(std::move(req), "127.0.0.1", "rid",
                                    [](HttpResponse&&, std::optional<FileBody>&&) {});
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

TEST(ExchangeTest, QueryDecodingFollowsFormRules) {
  auto pairs = decode_query("a=1&b=x+y%20z&&c&=v&a=2&raw={x}|[1]&plus=%2B");
  ASSERT_TRUE(pairs.ok());
  std::vector<std::pair<std::string, std::string>> want = {
      {"a", "1"}, {"b", "x y z"},     {"c", ""},    {"", "v"},
      {"a", "2"}, {"raw", "{x}|[1]"}, {"plus", "+"}};
  EXPECT_EQ(*pairs, want);
  EXPECT_EQ(decode_query("a=%zz").status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(decode_query("a=%4").status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(decode_query("%=1").status().code(), ErrorCode::kMalformed);
  EXPECT_TRUE(decode_query("").ok());
  // The first of a repeated parameter counts.
  EXPECT_EQ(make("/p?a=1&a=2")->query("a").value_or("?"), "1");
}

TEST(ExchangeTest, PathComponentsKeepPlusAndTargetsNeedValidEscapes) {
  EXPECT_EQ(decode_component("a+b%2Fc", false).value_or("?"), "a+b/c");
  EXPECT_EQ(decode_component("a+b", true).value_or("?"), "a b");
  EXPECT_FALSE(decode_component("100%", false));
  EXPECT_TRUE(valid_target("/api/v1/models/a%20b?x=%41&y={z}"));
  EXPECT_FALSE(valid_target("/api/v1/models/a%2"));
  EXPECT_FALSE(valid_target("/api?x=%g0"));
}

TEST(ExchangeTest, FirstResponseWinsAndCarriesTheRequestId) {
  HttpResponse got;
  int calls = 0;
  HttpRequest req{http::verb::get, "/", 11};
  auto ex = std::make_shared<Exchange>(std::move(req), "ip", "rid-1",
                                       [&](HttpResponse&& r, std::optional<FileBody>&&) {
                                         got = std::move(r);
                                         ++calls;
                                       });
  ex->respond_problem(http::status::not_found, "first");
  ex->respond_problem(http::status::conflict, "second");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got.result(), http::status::not_found);
  EXPECT_EQ(got["X-Request-Id"], "rid-1");
}

TEST(ExchangeTest, AFileResponseCarriesItsLengthAndAnOpenFile) {
  const std::string path = ::testing::TempDir() + "/vigil_file_body_test";
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("0123456789", f);
    std::fclose(f);
  }
  EXPECT_EQ(open_file_body(path, 8, 3).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(open_file_body(path + ".missing", 0, 1).status().code(), ErrorCode::kNotFound);
  auto body = open_file_body(path, 2, 5);
  ASSERT_TRUE(body.ok()) << body.status().to_string();
  std::remove(path.c_str());  // the open descriptor still reads it

  HttpResponse got;
  std::optional<FileBody> file;
  HttpRequest req{http::verb::get, "/", 11};
  auto ex = std::make_shared<Exchange>(std::move(req), "ip", "rid",
                                       [&](HttpResponse&& r, std::optional<FileBody>&& f) {
                                         got = std::move(r);
                                         file = std::move(f);
                                       });
  HttpResponse res{http::status::ok, 11};
  res.body() = "ignored";
  ex->respond_file(std::move(res), *body);
  ASSERT_TRUE(file.has_value());
  EXPECT_TRUE(got.body().empty());
  EXPECT_EQ(got[http::field::content_length], "5");
  EXPECT_EQ(Exchange::body_bytes(got), 5u);
  char buf[5];
  ASSERT_EQ(::pread(*file->fd, buf, 5, static_cast<off_t>(file->offset)), 5);
  EXPECT_EQ(std::string(buf, 5), "23456");
}

}  // namespace
}  // namespace vigil::net
