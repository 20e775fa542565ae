// Process-wide logging on spdlog: human-readable text on a terminal, JSON lines otherwise, and
// a rotating JSON-lines file. Call init_logging once at start-up; before it, spdlog's default
// (text to stderr) is in force. Use the spdlog macros/functions everywhere else.
#pragma once

#include <string>

#include "core/status.h"

namespace vigil {

struct LogOptions {
  std::string level = "info";   // trace|debug|info|warn|error|critical|off
  std::string format = "auto";  // auto|text|json (console)
  std::string file;             // rotating JSON-lines file; empty = none
  int max_file_mb = 16;
  int max_files = 5;
};

Status init_logging(const LogOptions& options);

// Escapes a string for inclusion inside a JSON string literal (no surrounding quotes).
void append_json_escaped(std::string& out, std::string_view s);
// The same into a buffer with room for kJsonEscapedMax * s.size() bytes; returns the end.
inline constexpr size_t kJsonEscapedMax = 6;  // a control character becomes \u00XX
char* write_json_escaped(char* out, std::string_view s);

}  // namespace vigil
