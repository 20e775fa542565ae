#include "agent/csv_rows.h"

#include <gtest/gtest.h>

#include <cmath>

namespace vigil::agent {
namespace {

using Kind = CsvRow::Kind;

TEST(CsvRowsTest, NumbersAndMissingValues) {
  CsvRow r = parse_csv_row("1.5, -2 ,3e2,,\"4\",nan\r");
  ASSERT_EQ(r.kind, Kind::kValues);
  ASSERT_EQ(r.values.size(), 6u);
  EXPECT_FLOAT_EQ(r.values[0], 1.5f);
  EXPECT_FLOAT_EQ(r.values[1], -2.0f);
  EXPECT_FLOAT_EQ(r.values[2], 300.0f);
  EXPECT_TRUE(std::isnan(r.values[3]));  // empty: missing
  EXPECT_FLOAT_EQ(r.values[4], 4.0f);    // quotes dropped
  EXPECT_TRUE(std::isnan(r.values[5]));
  EXPECT_EQ(parse_csv_row("7").values, std::vector<float>{7.0f});
  r = parse_csv_row(",");
  ASSERT_EQ(r.kind, Kind::kValues);
  EXPECT_EQ(r.values.size(), 2u);
}

TEST(CsvRowsTest, BlankAndCommentLinesAreSkipped) {
  EXPECT_EQ(parse_csv_row("").kind, Kind::kSkip);
  EXPECT_EQ(parse_csv_row("   \t\r").kind, Kind::kSkip);
  EXPECT_EQ(parse_csv_row("# a,b").kind, Kind::kSkip);
  EXPECT_EQ(parse_csv_row("  # note").kind, Kind::kSkip);
}

TEST(CsvRowsTest, TextIsNamed) {
  CsvRow r = parse_csv_row("radius,texture");
  EXPECT_EQ(r.kind, Kind::kText);
  EXPECT_TRUE(r.values.empty());
  EXPECT_EQ(r.error, "not a number: 'radius'");
  EXPECT_EQ(parse_csv_row("1,2x,3").error, "not a number: '2x'");
  // Out of float's range or infinite: not a usable number either.
  EXPECT_EQ(parse_csv_row("1e39").kind, Kind::kText);
  EXPECT_EQ(parse_csv_row("inf").kind, Kind::kText);
  EXPECT_EQ(parse_csv_row("0x").kind, Kind::kText);
}

TEST(CsvRowsTest, LimitsOnLineAndFields) {
  EXPECT_EQ(parse_csv_row(std::string(kMaxCsvLineBytes + 1, '1')).kind, Kind::kTooLong);
  std::string many;
  for (size_t i = 0; i <= kMaxCsvFields; ++i) many += "1,";
  many.pop_back();
  ASSERT_LE(many.size(), kMaxCsvLineBytes);
  EXPECT_EQ(parse_csv_row(many).kind, Kind::kTooLong);
  EXPECT_EQ(parse_csv_row(std::string(65, '1')).kind, Kind::kText);  // a field of 65 digits
}

}  // namespace
}  // namespace vigil::agent
