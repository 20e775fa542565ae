#include "tasks/rows_text.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace vigil::tasks {
namespace {
namespace json = boost::json;

TEST(RowsTextTest, CsvWithAHeaderAndJsonArraysBecomeRows) {
  auto csv = parse_rows_text("# rows\nx, \"y\"\n1,\n\n3,2.5\n4\n");
  ASSERT_TRUE(csv.ok()) << csv.status().to_string();
  EXPECT_EQ(json::value(*csv), json::parse(R"([{"x":1.0,"y":null},{"x":3.0,"y":2.5},{"x":4.0}])"));
  auto arr = parse_rows_text(R"( [{"a": 1}, {"a": null}] )");
  ASSERT_TRUE(arr.ok());
  EXPECT_EQ(arr->size(), 2u);
  auto wrapped = parse_rows_text(R"({"rows": [{"a": 1}]})");
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->size(), 1u);
}

TEST(RowsTextTest, WhatIsWrongIsSaidWithItsLine) {
  EXPECT_EQ(parse_rows_text("x,y\n1,abc\n").status().message(), "line 2: abc is not a number");
  EXPECT_EQ(parse_rows_text("x\n1,2\n").status().message(),
            "line 2: more fields than the header names");
  EXPECT_EQ(parse_rows_text("x\n1e999\n").status().message(), "line 2: 1e999 is not a number");
  EXPECT_EQ(parse_rows_text("x,,y\n").status().message(), "line 1: an empty name");
  EXPECT_FALSE(parse_rows_text("").ok());
  EXPECT_FALSE(parse_rows_text("[1, 2]").ok());
  EXPECT_FALSE(parse_rows_text("{\"rows\": 3}").ok());
  EXPECT_FALSE(parse_rows_text("[{").ok());
}

}  // namespace
}  // namespace vigil::tasks
