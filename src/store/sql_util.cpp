#include "store/sql_util.h"

#include <array>
#include <cctype>

namespace vigil::store::detail {
namespace {

constexpr size_t kExcerptLength = 80;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

}  // namespace

std::string sql_excerpt(std::string_view sql) {
  std::string out;
  bool pending_space = false;
  for (char c : sql) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (out.size() >= kExcerptLength) {
      out += "...";
      break;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

bool is_read_only_statement(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    if (is_space(sql[i]) || sql[i] == '(') {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      i = sql.find('\n', i);
      if (i == std::string_view::npos) return false;
    } else if (sql.substr(i, 2) == "/*") {
      i = sql.find("*/", i + 2);
      if (i == std::string_view::npos) return false;
      i += 2;
    } else {
      break;
    }
  }
  size_t end = i;
  while (end < sql.size() && std::isalpha(static_cast<unsigned char>(sql[end]))) ++end;
  std::string word;
  for (char c : sql.substr(i, end - i)) {
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  static constexpr std::array<std::string_view, 6> kReadKeywords = {"SELECT",  "VALUES", "WITH",
                                                                    "EXPLAIN", "SHOW",   "TABLE"};
  for (std::string_view keyword : kReadKeywords) {
    if (word == keyword) return true;
  }
  return false;
}

}  // namespace vigil::store::detail
