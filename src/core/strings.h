// The small string helpers every module needs, in one place: ASCII case folding and whole-string
// integer parsing. Locale-independent; pure functions, thread-safe.
#pragma once

#include <charconv>
#include <concepts>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

// ASCII lower case (bytes outside A-Z unchanged: UTF-8 passes through).
std::string to_lower(std::string_view s);
// Equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);
// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view trim(std::string_view s);

// A duration in milliseconds: "500ms", "90s", "10m", "1h", "2d" or plain milliseconds; nullopt
// when it is none of these or below 1 ms.
std::optional<int64_t> parse_duration_ms(std::string_view text);

// The decimal integer that is all of `s` (no sign for unsigned types, no '+', no spaces, no
// other bytes), within [min, max]; nullopt otherwise.
template <std::integral T>
std::optional<T> parse_int(std::string_view s, T min = std::numeric_limits<T>::min(),
                           T max = std::numeric_limits<T>::max()) {
  T value{};
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, value);
  if (s.empty() || ec != std::errc() || p != end || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

}  // namespace vigil
