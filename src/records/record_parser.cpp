#include "records/record_parser.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>

namespace vigil::records {
namespace json = boost::json;

static_assert(std::endian::native == std::endian::little, "the wire's floats are little-endian");

namespace {

constexpr size_t kMaxHeaderBytes = 16 << 20;

Status bad_wire(const std::string& why) {
  return Status(ErrorCode::kInvalidArgument, "the parser's answer is unreadable: " + why);
}

json::value attribute_json(const AttributeValue& v) {
  return std::visit([](const auto& x) { return json::value(x); }, v);
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

namespace {

// The header line: everything but the samples.
std::string encode_header(const RecordFile& r) {
  json::object attributes;
  for (const auto& [name, value] : r.attributes) attributes[name] = attribute_json(value);
  json::array hypnogram;
  for (int8_t s : r.hypnogram) hypnogram.push_back(s);
  json::array channels;
  for (const Channel& c : r.channels) {
    channels.push_back(json::object{{"modality", c.modality},
                                    {"name", c.name},
                                    {"fs", c.fs},
                                    {"unit", c.unit},
                                    {"samples", c.samples.size()}});
  }
  std::string out = json::serialize(json::object{{"attributes", std::move(attributes)},
                                                 {"hypnogram", std::move(hypnogram)},
                                                 {"channels", std::move(channels)}});
  out += '\n';
  return out;
}

std::string_view sample_bytes(const Channel& c) {
  return {reinterpret_cast<const char*>(c.samples.data()), c.samples.size() * sizeof(float)};
}

}  // namespace

std::string encode_record(const RecordFile& r) {
  std::string out = encode_header(r);
  for (const Channel& c : r.channels) out += sample_bytes(c);
  return out;
}

std::string encode_refusal(const Status& s) {
  std::string message = s.message();
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return "error " + std::to_string(static_cast<int>(s.code())) + " " + message + "\n";
}

Expected<RecordFile> decode_record(std::string_view wire, const RecordLimits& limits) {
  const size_t eol = wire.find('\n');
  if (eol == std::string_view::npos || eol > kMaxHeaderBytes) return bad_wire("no header line");
  const std::string_view header = wire.substr(0, eol);
  if (header.starts_with("error ")) {
    std::string_view rest = header.substr(6);
    int code = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), code);
    if (ec != std::errc() || p == rest.data() + rest.size() || *p != ' ') {
      return bad_wire("a refusal without its code");
    }
    const std::string message(p + 1, rest.data() + rest.size());
    // Only the refusals a file can earn; anything else is the parser's trouble.
    if (code == static_cast<int>(ErrorCode::kResourceExhausted)) {
      return Status(ErrorCode::kResourceExhausted, message);
    }
    if (code == static_cast<int>(ErrorCode::kNotFound)) return not_found(message);
    return Status(ErrorCode::kInvalidArgument, message);
  }
  json::parse_options opts;
  opts.max_depth = 8;
  std::error_code ec;
  json::value v = json::parse(header, ec, {}, opts);
  if (ec || !v.is_object()) return bad_wire("the header is no JSON object");
  const json::object& o = v.get_object();
  RecordFile r;
  const json::object* attributes =
      o.contains("attributes") ? o.at("attributes").if_object() : nullptr;
  const json::array* hypnogram = o.contains("hypnogram") ? o.at("hypnogram").if_array() : nullptr;
  const json::array* channels = o.contains("channels") ? o.at("channels").if_array() : nullptr;
  if (!attributes || !hypnogram || !channels) return bad_wire("a part is missing");
  if (attributes->size() > limits.max_attributes) return bad_wire("too many attributes");
  for (const auto& [name, value] : *attributes) {
    if (value.is_int64()) {
      r.attributes.emplace(name, value.get_int64());
    } else if (value.is_double()) {
      r.attributes.emplace(name, value.get_double());
    } else if (value.is_string()) {
      r.attributes.emplace(name, std::string(value.get_string()));
    } else {
      return bad_wire("attribute " + std::string(name) + " is of no known type");
    }
  }
  VIGIL_RETURN_IF_ERROR(take_required(r));
  if (hypnogram->size() > limits.max_epochs) return bad_wire("too many epochs");
  for (const auto& s : *hypnogram) {
    if (!s.is_int64() || s.get_int64() < -1 || s.get_int64() > 4) return bad_wire("a bad stage");
    r.hypnogram.push_back(static_cast<int8_t>(s.get_int64()));
  }
  if (channels->size() > limits.max_channels) return bad_wire("too many channels");
  size_t total = 0;
  for (const auto& c : *channels) {
    const json::object* co = c.if_object();
    if (!co || !co->contains("modality") || !co->contains("name") || !co->contains("fs") ||
        !co->contains("unit") || !co->contains("samples")) {
      return bad_wire("a channel lacks a field");
    }
    const json::value &modality = co->at("modality"), &name = co->at("name"), &fs = co->at("fs"),
                      &unit = co->at("unit"), &samples = co->at("samples");
    if (!modality.is_string() || !name.is_string() || !fs.is_number() || !unit.is_string() ||
        !(samples.is_uint64() || samples.is_int64())) {
      return bad_wire("a channel field has the wrong type");
    }
    const uint64_t n = samples.to_number<uint64_t>();
    if (n > limits.max_samples - total) return bad_wire("too many samples");
    total += n;
    Channel ch{std::string(modality.get_string()),
               std::string(name.get_string()),
               fs.to_number<double>(),
               std::string(unit.get_string()),
               {}};
    if (!(ch.fs > 0) || !std::isfinite(ch.fs)) return bad_wire("a channel's fs is not above 0");
    ch.samples.resize(n);
    r.channels.push_back(std::move(ch));
  }
  std::string_view body = wire.substr(eol + 1);
  if (body.size() != total * sizeof(float)) return bad_wire("the samples' length differs");
  for (Channel& c : r.channels) {
    std::memcpy(c.samples.data(), body.data(), c.samples.size() * sizeof(float));
    body.remove_prefix(c.samples.size() * sizeof(float));
  }
  return r;
}

#if defined(__SANITIZE_ADDRESS__)
#define VIGIL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VIGIL_ASAN 1
#endif
#endif

int run_parse_record(const std::string& path, size_t max_memory_bytes, int fd) {
#ifdef VIGIL_ASAN
  max_memory_bytes = 0;  // AddressSanitizer's shadow maps terabytes: a cap would stop it at once
#endif
  if (max_memory_bytes > 0) {
    rlimit lim{max_memory_bytes, max_memory_bytes};
    ::setrlimit(RLIMIT_AS, &lim);
  }
  try {
    auto r = read_record_file(path);
    if (!r.ok()) return write_all(fd, encode_refusal(r.status())) ? 0 : 1;
    // The samples go out from where they are: no copy of the whole record into one buffer.
    bool ok = write_all(fd, encode_header(*r));
    for (const Channel& c : r->channels) ok = ok && write_all(fd, sample_bytes(c));
    return ok ? 0 : 1;
  } catch (const std::bad_alloc&) {
    return write_all(fd, encode_refusal(Status(ErrorCode::kResourceExhausted,
                                               "the file needs more than " +
                                                   std::to_string(max_memory_bytes >> 20) +
                                                   " MiB to parse")))
               ? 0
               : 1;
  }
}

Expected<RecordFile> parse_in_child(const std::string& path, const ParserOptions& o) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Status(ErrorCode::kUnavailable, std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  const std::string memory = std::to_string(o.max_memory_bytes);
  std::vector<std::string> args{o.exe, "parse-record", path, "--max-memory", memory};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, o.exe.c_str(), &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    return Status(ErrorCode::kUnavailable,
                  "cannot start the record parser " + o.exe + ": " + std::strerror(spawned));
  }
  // Read everything until the child closes its end, or until the deadline: into the answer's
  // buffer directly, grown as the file's size suggests (the samples are about 1.1x a
  // gzip-compressed file), through a pipe of 1 MiB where the system allows (fewer wake-ups).
  ::fcntl(pipe_fds[0], F_SETPIPE_SZ, 1 << 20);
  const size_t cap = o.limits.max_samples * sizeof(float) + kMaxHeaderBytes;
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  std::error_code size_error;
  const auto file_size = std::filesystem::file_size(path, size_error);
  size_t size = std::min<size_t>(cap, size_error ? (1 << 20) : file_size + file_size / 4 + 4096);
  auto wire = std::make_unique_for_overwrite<char[]>(size);  // not zeroed: read() fills it
  size_t got = 0;
  bool timed_out = false, too_big = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{pipe_fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    if (got == size) {
      if (size >= cap) {
        too_big = true;
        break;
      }
      size = std::min(cap, size * 2);
      auto bigger = std::make_unique_for_overwrite<char[]>(size);
      std::memcpy(bigger.get(), wire.get(), got);
      wire = std::move(bigger);
    }
    const ssize_t n = ::read(pipe_fds[0], wire.get() + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(pipe_fds[0]);
  if (timed_out || too_big) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return Status(
        ErrorCode::kInvalidArgument,
        "the parser took longer than " + std::to_string(o.timeout.count()) + " ms on this file");
  }
  if (too_big) return Status(ErrorCode::kResourceExhausted, "the parsed record is too large");
  if (WIFSIGNALED(status)) {
    return Status(
        ErrorCode::kInvalidArgument,
        "the parser crashed (signal " + std::to_string(WTERMSIG(status)) + ") on this file");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 127) return Status(ErrorCode::kUnavailable, "the record parser did not start");
    return Status(ErrorCode::kInvalidArgument,
                  "the parser failed (exit " + std::to_string(code) + ") on this file");
  }
  return decode_record(std::string_view(wire.get(), got), o.limits);
}

}  // namespace vigil::records
