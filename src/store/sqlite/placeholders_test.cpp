#include "store/sqlite/placeholders.h"

#include <gtest/gtest.h>

namespace vigil::store {
namespace {

TEST(RewritePlaceholders, NumberedPlaceholdersBecomeSqliteNumbered) {
  EXPECT_EQ(rewrite_placeholders("SELECT * FROM t WHERE a = $1 AND b = $2"),
            "SELECT * FROM t WHERE a = ?1 AND b = ?2");
  EXPECT_EQ(rewrite_placeholders("VALUES ($12,$3)"), "VALUES (?12,?3)");
  EXPECT_EQ(rewrite_placeholders("$1"), "?1");
  EXPECT_EQ(rewrite_placeholders("x=$1+$1"), "x=?1+?1");
  EXPECT_EQ(rewrite_placeholders("arr[$1]"), "arr[?1]");
}

TEST(RewritePlaceholders, QuotedTextIsLeftAlone) {
  EXPECT_EQ(rewrite_placeholders("SELECT '$1', $1"), "SELECT '$1', ?1");
  EXPECT_EQ(rewrite_placeholders("SELECT 'it''s $1', $2"), "SELECT 'it''s $1', ?2");
  EXPECT_EQ(rewrite_placeholders("SELECT \"$1\" FROM t WHERE x = $1"),
            "SELECT \"$1\" FROM t WHERE x = ?1");
  EXPECT_EQ(rewrite_placeholders("SELECT \"a\"\"$1\" , `$2`, $3"), "SELECT \"a\"\"$1\" , `$2`, ?3");
}

TEST(RewritePlaceholders, CommentsAreLeftAlone) {
  EXPECT_EQ(rewrite_placeholders("SELECT $1 -- $2\n, $3"), "SELECT ?1 -- $2\n, ?3");
  EXPECT_EQ(rewrite_placeholders("SELECT /* $1 */ $2"), "SELECT /* $1 */ ?2");
  EXPECT_EQ(rewrite_placeholders("SELECT $1 -- $2"), "SELECT ?1 -- $2");
}

TEST(RewritePlaceholders, DollarsThatAreNotPlaceholders) {
  EXPECT_EQ(rewrite_placeholders("SELECT a$1 FROM t"), "SELECT a$1 FROM t");
  EXPECT_EQ(rewrite_placeholders("SELECT $ , $a, $$"), "SELECT $ , $a, $$");
  EXPECT_EQ(rewrite_placeholders("SELECT 5$1"), "SELECT 5$1");
}

TEST(RewritePlaceholders, UnterminatedQuotesAndCommentsDoNotOverrun) {
  EXPECT_EQ(rewrite_placeholders("SELECT 'abc $1"), "SELECT 'abc $1");
  EXPECT_EQ(rewrite_placeholders("SELECT \"abc $1"), "SELECT \"abc $1");
  EXPECT_EQ(rewrite_placeholders("SELECT /* $1"), "SELECT /* $1");
  EXPECT_EQ(rewrite_placeholders(""), "");
  EXPECT_EQ(rewrite_placeholders("$"), "$");
}

TEST(RewritePlaceholders, MultiByteTextIsCopied) {
  EXPECT_EQ(rewrite_placeholders("SELECT '日本語 $1', $1 AS \"ü$2\""),
            "SELECT '日本語 $1', ?1 AS \"ü$2\"");
}

}  // namespace
}  // namespace vigil::store
