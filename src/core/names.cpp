#include "core/names.h"

namespace vigil {

std::optional<std::string> name_error(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return "must be 1-64 characters of A-Z a-z 0-9 . _ -";
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return "must be 1-64 characters of A-Z a-z 0-9 . _ - (found another character)";
  }
  return std::nullopt;
}

std::string name_key(std::string_view name) {
  std::string key(name);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

}  // namespace vigil
