// The rows of a task as a person writes them in a file (`vigil task submit --rows FILE`): a JSON
// array of objects (or {"rows": [...]}), or CSV whose first line names the features — a field is
// a number, or empty for missing (null); surrounding spaces and double quotes are dropped; blank
// lines and lines starting with '#' are skipped. Pure function of its input; outside input, so it
// has a fuzz target (fuzz/task_rows_fuzz.cpp).
#pragma once

#include <boost/json/array.hpp>

#include <string_view>

#include "core/status.h"

namespace vigil::tasks {

// kInvalidArgument saying what is wrong and where ("line 3: abc is not a number").
Expected<boost::json::array> parse_rows_text(std::string_view text);

}  // namespace vigil::tasks
