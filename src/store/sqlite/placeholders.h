// Placeholder rewriting for SQLite: the store's SQL is written with PostgreSQL's `$N`
// placeholders, which SQLite would read as *named* parameters numbered by appearance. The
// rewrite turns them into SQLite's numbered form `?N` so `$2 ... $1` binds as written.
#pragma once

#include <string>
#include <string_view>

namespace vigil::store {

// Rewrites every `$N` (N decimal digits) that starts a token into `?N`. Text inside
// single-quoted strings, double-quoted or backquoted identifiers, `--` line comments and
// `/* */` block comments is copied unchanged, as is a `$` that continues an identifier
// (`a$1`). Pure function; never fails (malformed SQL is left for the parser to reject).
std::string rewrite_placeholders(std::string_view sql);

}  // namespace vigil::store
