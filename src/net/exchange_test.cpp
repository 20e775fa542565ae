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
