#include "core/unicode.h"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <cstdint>
#include <limits>

namespace vigil {

std::optional<size_t> utf8_code_points(std::string_view s) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++count) {
    UChar32 c = 0;
    U8_NEXT(bytes, i, s.size(), c);
    if (c < 0) return std::nullopt;
  }
  return count;
}

Expected<std::string> caseless_key(std::string_view s) {
  if (s.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()) || !utf8_code_points(s)) {
    return invalid_argument("not well-formed UTF-8");
  }
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(error);
  if (U_FAILURE(error)) return internal_error(std::string("ICU NFC: ") + u_errorName(error));
  icu::UnicodeString text =
      icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  icu::UnicodeString folded = nfc->normalize(text, error).foldCase(U_FOLD_CASE_DEFAULT);
  icu::UnicodeString key = nfc->normalize(folded, error);
  if (U_FAILURE(error) || key.isBogus()) {
    return internal_error(std::string("ICU normalisation: ") + u_errorName(error));
  }
  std::string out;
  key.toUTF8String(out);
  return out;
}

}  // namespace vigil
