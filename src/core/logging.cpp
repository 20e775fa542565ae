#include "core/logging.h"

#include "core/ids.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>

namespace vigil {
namespace {

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string out;
    out.reserve(128 + msg.payload.size());
    out += "{\"ts\":\"";
    out += format_rfc3339(msg.time);
    out += "\",\"level\":\"";
    auto level = spdlog::level::to_string_view(msg.level);
    out.append(level.data(), level.size());
    out += "\",\"thread\":";
    out += std::to_string(msg.thread_id);
    out += ",\"msg\":\"";
    append_json_escaped(out, std::string_view(msg.payload.data(), msg.payload.size()));
    out += "\"}\n";
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

namespace {

// True when one of the 8 bytes of w is below 0x20, '"' or '\\' (the bytes JSON must escape).
// Word-at-a-time: the access log and the JSON log escape every field, and almost none needs it.
inline bool word_needs_escape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  auto has_zero = [](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return (below_space | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\'))) != 0;
}

// Whether s has a byte JSON must escape, checked a word (8 bytes) at a time: the last word is
// the string's last 8 bytes (overlapping the one before), or for a string shorter than a word
// its bytes padded with 'a'. Almost no field of a log line or an audit record needs escaping.
bool needs_escape(std::string_view s) {
  auto word_at = [&](size_t i) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);  // a fixed size: a plain load, not a call
    return w;
  };
  if (s.size() < 8) {
    uint64_t w = 0x6161616161616161ull;
    for (char c : s) w = (w << 8) | static_cast<unsigned char>(c);  // byte order does not matter
    return word_needs_escape(w);
  }
  for (size_t i = 0; i + 8 < s.size(); i += 8) {
    if (word_needs_escape(word_at(i))) return true;
  }
  return word_needs_escape(word_at(s.size() - 8));
}

}  // namespace

char* write_json_escaped(char* out, std::string_view s) {
  if (!needs_escape(s)) {
    if (!s.empty()) std::memcpy(out, s.data(), s.size());  // data() may be null when empty
    return out + s.size();
  }
  static const char* kHex = "0123456789abcdef";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != '"' && c != '\\') {
      *out++ = ch;
      continue;
    }
    *out++ = '\\';
    switch (c) {
      case '"': *out++ = '"'; break;
      case '\\': *out++ = '\\'; break;
      case '\n': *out++ = 'n'; break;
      case '\r': *out++ = 'r'; break;
      case '\t': *out++ = 't'; break;
      default:
        std::memcpy(out, "u00", 3);
        out[3] = kHex[c >> 4];
        out[4] = kHex[c & 15];
        out += 5;
    }
  }
  return out;
}

void append_json_escaped(std::string& out, std::string_view s) {
  if (!needs_escape(s)) {
    out.append(s.data(), s.size());
    return;
  }
  size_t at = out.size();
  out.resize(at + kJsonEscapedMax * s.size());
  out.resize(static_cast<size_t>(write_json_escaped(out.data() + at, s) - out.data()));
}

Status init_logging(const LogOptions& options) {
  std::vector<spdlog::sink_ptr> sinks;
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  bool text = options.format == "text" || (options.format == "auto" && isatty(STDERR_FILENO));
  if (text) {
    console->set_pattern("%H:%M:%S.%e %^%-5l%$ %v");
  } else {
    console->set_formatter(std::make_unique<JsonFormatter>());
  }
  sinks.push_back(console);
  if (!options.file.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(options.file).parent_path(), ec);
    try {
      auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          options.file, static_cast<size_t>(options.max_file_mb) * 1024 * 1024,
          static_cast<size_t>(options.max_files));
      file->set_formatter(std::make_unique<JsonFormatter>());
      sinks.push_back(file);
    } catch (const spdlog::spdlog_ex& e) {
      return unavailable(std::string("cannot open log file: ") + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("vigil", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::from_str(options.level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
  return {};
}

}  // namespace vigil
