// Small helpers shared by the store's implementations. Internal to src/store/.
#pragma once

#include <string>
#include <string_view>

namespace vigil::store::detail {

// The start of a statement, whitespace collapsed, for error messages (never parameters:
// the store only ever binds them).
std::string sql_excerpt(std::string_view sql);

// True when the statement only reads: its first keyword (after comments) is SELECT, VALUES,
// WITH, EXPLAIN, SHOW or TABLE. Database::query() uses it to pick read() or write().
bool is_read_only_statement(std::string_view sql);

}  // namespace vigil::store::detail
