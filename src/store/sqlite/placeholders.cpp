#include "store/sqlite/placeholders.h"

namespace vigil::store {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_identifier_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Index just past a quoted run that starts at `begin` with `quote`; a doubled quote is an
// escaped quote. An unterminated run extends to the end.
size_t skip_quoted(std::string_view sql, size_t begin, char quote) {
  size_t i = begin + 1;
  while (i < sql.size()) {
    if (sql[i] == quote) {
      if (i + 1 < sql.size() && sql[i + 1] == quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    ++i;
  }
  return sql.size();
}

}  // namespace

std::string rewrite_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    size_t end = i + 1;
    if (c == '\'' || c == '"' || c == '`') {
      end = skip_quoted(sql, i, c);
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      end = sql.find("*/", i + 2);
      end = end == std::string_view::npos ? sql.size() : end + 2;
    } else if (c == '$' && i + 1 < sql.size() && is_digit(sql[i + 1]) &&
               (i == 0 || !is_identifier_char(sql[i - 1]))) {
      out += '?';
      ++i;
      continue;  // the digits are copied as ordinary characters
    } else if (is_identifier_char(c)) {
      // Copy a whole identifier/number so a `$` inside it is never taken for a placeholder.
      while (end < sql.size() && is_identifier_char(sql[end])) ++end;
    }
    out.append(sql.substr(i, end - i));
    i = end;
  }
  return out;
}

}  // namespace vigil::store
