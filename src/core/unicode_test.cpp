#include "core/unicode.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil {
namespace {

std::string key_of(std::string_view s) {
  auto key = caseless_key(s);
  EXPECT_TRUE(key.ok()) << key.status().to_string();
  return key.ok() ? *key : std::string();
}

TEST(Unicode, CodePointsAreCountedNotBytes) {
  EXPECT_EQ(utf8_code_points(""), 0u);
  EXPECT_EQ(utf8_code_points("password"), 8u);
  EXPECT_EQ(utf8_code_points("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), 7u);
  const std::string emoji = "\xf0\x9f\x98\x80";  // U+1F600, four bytes
  EXPECT_EQ(utf8_code_points(emoji + emoji + emoji + emoji), 4u);
  EXPECT_EQ(utf8_code_points("e\xcc\x81"), 2u);         // e + U+0301: two code points
  EXPECT_EQ(utf8_code_points("\xe2\x82\xac"), 1u);      // U+20AC
  EXPECT_EQ(utf8_code_points("\xf4\x8f\xbf\xbf"), 1u);  // U+10FFFF, the last
  EXPECT_EQ(utf8_code_points(std::string("a\0b", 3)), 3u);
}

TEST(Unicode, IllFormedUtf8HasNoLength) {
  for (const char* bad : {
           "\xff",              // never a UTF-8 byte
           "\x80",              // a continuation byte alone
           "\xc3",              // cut off
           "abc\xe2\x82",       // cut off at the end
           "\xc0\xaf",          // overlong '/'
           "\xe0\x80\xaf",      // overlong, three bytes
           "\xed\xa0\x80",      // U+D800, a surrogate
           "\xf4\x90\x80\x80",  // U+110000, beyond Unicode
           "\xc3\x28",          // a lead byte followed by ASCII
       }) {
    EXPECT_EQ(utf8_code_points(bad), std::nullopt) << bad;
    EXPECT_EQ(caseless_key(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(Unicode, CaselessKeyFoldsCaseBeyondAscii) {
  EXPECT_EQ(key_of("ADA@Example.COM"), "ada@example.com");
  EXPECT_EQ(key_of("\xc3\x89VA@EXAMPLE.COM"), "\xc3\xa9va@example.com");  // ÉVA → éva
  EXPECT_EQ(key_of("Stra\xc3\x9f"
                   "e"),
            "strasse");  // ß folds to ss
  EXPECT_EQ(key_of("\xce\xa3\xce\x99\xce\xa3"), key_of("\xcf\x83\xce\xb9\xcf\x82"));  // ΣΙΣ, σις
  EXPECT_EQ(key_of("\xe2\x84\xaa"), "k");  // U+212A KELVIN SIGN
  EXPECT_EQ(key_of(""), "");
}

TEST(Unicode, CaselessKeyIdentifiesCanonicalEquivalents) {
  const std::string composed = "\xc3\xa9va@example.com";     // U+00E9
  const std::string decomposed = "e\xcc\x81va@example.com";  // e + U+0301
  const std::string upper_decomposed = "E\xcc\x81VA@EXAMPLE.COM";
  EXPECT_EQ(key_of(decomposed), composed);  // NFC: the composed form
  EXPECT_EQ(key_of(upper_decomposed), composed);
  EXPECT_EQ(key_of("\xe2\x84\xab"), "\xc3\xa5");  // U+212B ANGSTROM SIGN is å
  // Compatibility forms stay apart: NFC, not NFKC.
  EXPECT_NE(key_of("\xef\xbc\xa1"), "a");  // U+FF21 FULLWIDTH A
  EXPECT_NE(key_of("\xc3\xa9"), key_of("e"));
}

}  // namespace
}  // namespace vigil
