#include "api/multipart.h"

#include <gtest/gtest.h>

namespace vigil::api {
namespace {

TEST(Multipart, ParsesNamedPartsWithBinaryBodies) {
  std::string bin("a\0b\r\n--notit\r\nc", 15);
  std::string body =
      "preamble\r\n--XyZ\r\n"
      "Content-Disposition: form-data; name=\"metadata\"\r\n"
      "Content-Type: application/json\r\n\r\n"
      "{\"features\":[\"a\"]}\r\n"
      "--XyZ\r\n"
      "content-disposition: form-data; name=file; filename=\"m.ubj\"\r\n\r\n" +
      bin + "\r\n--XyZ--\r\n";
  auto parts = parse_multipart("multipart/form-data; boundary=XyZ", body);
  ASSERT_TRUE(parts.ok()) << parts.status().to_string();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "metadata");
  EXPECT_EQ((*parts)[0].content_type, "application/json");
  EXPECT_EQ((*parts)[0].body, "{\"features\":[\"a\"]}");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "m.ubj");
  EXPECT_EQ((*parts)[1].body, bin);
}

TEST(Multipart, QuotedBoundaryAndEmptyBody) {
  auto parts =
      parse_multipart("multipart/form-data; boundary=\"a b\"",
                      "--a b\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n--a b--");
  ASSERT_TRUE(parts.ok()) << parts.status().to_string();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].body, "");
}

TEST(Multipart, MalformedBodiesAreErrors) {
  const char* ct = "multipart/form-data; boundary=B";
  for (std::string_view bad : {
           std::string_view(""),
           std::string_view("--B"),
           std::string_view("--B\r\nContent-Disposition: form-data; name=x\r\n\r\nno end"),
           std::string_view("--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--"),
           std::string_view("--B\r\nContent-Disposition: attachment; name=x\r\n\r\nx\r\n--B--"),
           std::string_view("--B\r\nno colon\r\n\r\nx\r\n--B--"),
           std::string_view("--Bjunk"),
       }) {
    EXPECT_FALSE(parse_multipart(ct, bad).ok()) << bad;
  }
  EXPECT_FALSE(parse_multipart("multipart/form-data", "--B--").ok());
  std::string many;
  for (int i = 0; i < 17; ++i) many += "--B\r\nContent-Disposition: form-data; name=p\r\n\r\nx\r\n";
  many += "--B--";
  EXPECT_FALSE(parse_multipart(ct, many).ok());
}

}  // namespace
}  // namespace vigil::api
