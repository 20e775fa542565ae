// Names of things users create (models, aliases, devices, sensors, watchdogs): 1–64 characters
// of [A-Za-z0-9._-], compared case-insensitively, stored as given (API.md, Conventions).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vigil {

inline constexpr size_t kMaxNameLength = 64;

// nullopt when valid, else why not ("must be 1-64 characters of A-Z a-z 0-9 . _ -").
std::optional<std::string> name_error(std::string_view name);
inline bool is_valid_name(std::string_view name) { return !name_error(name).has_value(); }

// ASCII lower case: the comparison key of a name.
std::string name_key(std::string_view name);

}  // namespace vigil
