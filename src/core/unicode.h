// Unicode over UTF-8 strings (ICU underneath): how long text is, and the form under which two
// spellings of one identifier (an email) are the same. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vigil {

// The number of Unicode code points in `s`; nullopt when `s` is not well-formed UTF-8
// (overlong forms, surrogates, values above U+10FFFF and cut-off sequences are not).
std::optional<size_t> utf8_code_points(std::string_view s);

// `s` in Unicode Normalization Form C, then fully case-folded (Unicode's default folding, no
// locale), then in NFC again (folding can leave text that is not), as UTF-8: two strings have
// the same key exactly when they are equal ignoring case and canonical equivalence
// ("ÉVA@EXAMPLE.COM", "éva@example.com" and "e" + U+0301 + "va@example.com" share one). Keys
// are for comparing, not for showing. kInvalidArgument when `s` is not well-formed UTF-8 (or
// is over 2^31 bytes); kInternal if ICU fails.
Expected<std::string> caseless_key(std::string_view s);

}  // namespace vigil
