// The one permission table: every route declares an action (RouteSpec::action) and this table
// says which roles may perform it. Ownership rules ("a user writes only their own things") are
// checked by the handler on top of this; the table decides who may call the route at all.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil::auth {

inline constexpr std::string_view kRoleAdmin = "admin";
inline constexpr std::string_view kRoleUser = "user";
inline constexpr std::string_view kRoleWatchdog = "watchdog";

bool is_valid_role(std::string_view role);

struct ActionSpec {
  std::string name;                // "users.read"
  std::vector<std::string> roles;  // roles allowed; empty with name "public" = anyone
  std::string description;
};

// "public" needs no caller; every other action needs a signed-in caller whose role is listed.
const std::vector<ActionSpec>& actions();
const ActionSpec* find_action(std::string_view name);
bool role_allows(std::string_view role, std::string_view action);

}  // namespace vigil::auth
