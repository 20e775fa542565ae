#include "records/record_parser.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>

#include "core/json_text.h"
#include "records/signal_codec.h"

namespace vigil::records {
namespace json = boost::json;

static_assert(std::endian::native == std::endian::little, "the wire's floats are little-endian");

namespace {

constexpr size_t kMaxHeaderBytes = 16 << 20;

Status bad_wire(const std::string& why) {
  return Status(ErrorCode::kInvalidArgument, "the parser's answer is unreadable: " + why);
}

// A non-negative integer of the wire; none for anything else (a negative one too).
std::optional<uint64_t> count_of(const json::value& v) {
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<uint64_t>(v.get_int64());
  return std::nullopt;
}

// An attribute on the wire: its JSON value, or {"nonfinite":"nan"|"inf"|"-inf"} for a double
// JSON has no number for (a file's float attribute may be NaN).
json::value attribute_json(const AttributeValue& v) {
  if (const double* d = std::get_if<double>(&v); d && !std::isfinite(*d)) {
    return json::object{{"nonfinite", std::isnan(*d) ? "nan" : *d > 0 ? "inf" : "-inf"}};
  }
  return std::visit([](const auto& x) { return json::value(x); }, v);
}

std::optional<double> nonfinite_of(const json::value& v) {
  const json::object* o = v.if_object();
  const json::value* name = o && o->size() == 1 ? o->if_contains("nonfinite") : nullptr;
  if (!name || !name->is_string()) return std::nullopt;
  if (name->get_string() == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (name->get_string() == "inf") return std::numeric_limits<double>::infinity();
  if (name->get_string() == "-inf") return -std::numeric_limits<double>::infinity();
  return std::nullopt;
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
    json::object o{{"modality", c.modality},
                   {"name", c.name},
                   {"fs", c.fs},
                   {"unit", c.unit},
                   {"samples", c.length()}};
    if (!c.chunks.empty()) {
      json::array sizes;
      for (const std::string& k : c.chunks) sizes.push_back(k.size());
      o["chunks"] = std::move(sizes);
    }
    channels.push_back(std::move(o));
  }
  std::string out = json::serialize(json::object{{"attributes", std::move(attributes)},
                                                 {"hypnogram", std::move(hypnogram)},
                                                 {"channels", std::move(channels)}});
  out += '\n';
  return out;
}

// Calls out(bytes) for each piece of the channel's part of the body: its samples, or its
// chunks one after the other.
template <class Out>
void for_each_part(const Channel& c, Out out) {
  if (c.chunks.empty()) {
    out(std::string_view(reinterpret_cast<const char*>(c.samples.data()),
                         c.samples.size() * sizeof(float)));
  }
  for (const std::string& k : c.chunks) out(std::string_view(k));
}

}  // namespace

std::string encode_record(const RecordFile& r) {
  std::string out = encode_header(r);
  for (const Channel& c : r.channels) for_each_part(c, [&](std::string_view b) { out += b; });
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
  boost::system::error_code ec;
  json::value v = parse_json(header, ec, opts);
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
    } else if (value.is_double() && std::isfinite(value.get_double())) {
      r.attributes.emplace(name, value.get_double());
    } else if (value.is_string()) {
      r.attributes.emplace(name, std::string(value.get_string()));
    } else if (auto d = nonfinite_of(value)) {
      r.attributes.emplace(name, *d);
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
  size_t total = 0, body_bytes = 0;
  std::vector<std::vector<size_t>> chunk_sizes;  // a channel's kept chunks' byte lengths
  std::vector<uint64_t> counts;                  // a channel's samples
  for (const auto& c : *channels) {
    const json::object* co = c.if_object();
    if (!co || !co->contains("modality") || !co->contains("name") || !co->contains("fs") ||
        !co->contains("unit") || !co->contains("samples")) {
      return bad_wire("a channel lacks a field");
    }
    const json::value &modality = co->at("modality"), &name = co->at("name"), &fs = co->at("fs"),
                      &unit = co->at("unit"), &samples = co->at("samples");
    if (!modality.is_string() || !name.is_string() || !fs.is_number() || !unit.is_string() ||
        !count_of(samples)) {
      return bad_wire("a channel field has the wrong type");
    }
    const uint64_t n = *count_of(samples);
    if (n > limits.max_samples - total) return bad_wire("too many samples");
    total += n;
    counts.push_back(n);
    Channel ch{std::string(modality.get_string()),
               std::string(name.get_string()),
               fs.to_number<double>(),
               std::string(unit.get_string()),
               {},
               {}};
    if (!(ch.fs > 0) || !std::isfinite(ch.fs)) return bad_wire("a channel's fs is not above 0");
    std::vector<size_t> sizes;
    if (const json::value* chunks = co->if_contains("chunks")) {
      if (!chunks->is_array() || chunks->get_array().size() > n) return bad_wire("bad chunks");
      for (const auto& k : chunks->get_array()) {
        if (!count_of(k)) return bad_wire("a chunk's length is no count");
        const uint64_t bytes = *count_of(k);
        if (bytes < 12 || bytes > kMaxSignalChunkSamples * 8 + 8192) {
          return bad_wire("a chunk's length is out of range");
        }
        body_bytes += bytes;
        sizes.push_back(bytes);
      }
    } else {
      body_bytes += n * sizeof(float);
      ch.samples.resize(n);
    }
    chunk_sizes.push_back(std::move(sizes));
    r.channels.push_back(std::move(ch));
  }
  std::string_view body = wire.substr(eol + 1);
  if (body.size() != body_bytes) return bad_wire("the samples' length differs");
  for (size_t i = 0; i < r.channels.size(); ++i) {
    Channel& c = r.channels[i];
    if (chunk_sizes[i].empty()) {
      std::memcpy(c.samples.data(), body.data(), c.samples.size() * sizeof(float));
      body.remove_prefix(c.samples.size() * sizeof(float));
      continue;
    }
    size_t counted = 0;
    for (size_t bytes : chunk_sizes[i]) {
      c.chunks.emplace_back(body.substr(0, bytes));
      body.remove_prefix(bytes);
      const uint32_t in_chunk = signal_chunk_count(c.chunks.back());
      if (in_chunk == 0 || in_chunk > kMaxSignalChunkSamples) return bad_wire("a bad chunk");
      counted += in_chunk;
    }
    if (counted != counts[i]) return bad_wire("a channel's chunks hold other than its samples");
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

namespace {

// The child's address-space cap, before it opens a file.
size_t cap_memory(size_t max_memory_bytes) {
#ifdef VIGIL_ASAN
  max_memory_bytes = 0;  // AddressSanitizer's shadow maps terabytes: a cap would stop it at once
#endif
  if (max_memory_bytes > 0) {
    rlimit lim{max_memory_bytes, max_memory_bytes};
    ::setrlimit(RLIMIT_AS, &lim);
  }
  return max_memory_bytes;
}

Status out_of_memory(size_t max_memory_bytes) {
  return Status(
      ErrorCode::kResourceExhausted,
      "the file needs more than " + std::to_string(max_memory_bytes >> 20) + " MiB to parse");
}

Expected<RecordFile> read_guarded(const std::string& path, size_t max_memory_bytes) {
  try {
    return read_record_file(path, {}, /*keep_chunks=*/true);
  } catch (const std::bad_alloc&) {
    return out_of_memory(max_memory_bytes);
  }
}

template <class T>
bool write_value(int fd, T v) {
  return write_all(fd, std::string_view(reinterpret_cast<const char*>(&v), sizeof v));
}

// The answer for `r`; framed: its length (u64 LE) first. The samples go out from where they
// are: no copy of the whole record into one buffer.
bool write_answer(int fd, const Expected<RecordFile>& r, bool framed, size_t max_memory_bytes) {
  try {
    if (!r.ok()) {
      const std::string refusal = encode_refusal(r.status());
      return (!framed || write_value<uint64_t>(fd, refusal.size())) && write_all(fd, refusal);
    }
    const std::string header = encode_header(*r);
    uint64_t size = header.size();
    for (const Channel& c : r->channels)
      for_each_part(c, [&](std::string_view b) { size += b.size(); });
    bool ok = (!framed || write_value(fd, size)) && write_all(fd, header);
    for (const Channel& c : r->channels) {
      for_each_part(c, [&](std::string_view b) { ok = ok && write_all(fd, b); });
    }
    return ok;
  } catch (const std::bad_alloc&) {
    return write_answer(fd, out_of_memory(max_memory_bytes), framed, max_memory_bytes);
  }
}

// Reads exactly `size` bytes; false at the end of the input or on an error.
bool read_all(int fd, char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

constexpr uint32_t kMaxPathBytes = 1 << 16;

}  // namespace

int run_parse_record(const std::string& path, size_t max_memory_bytes, int fd) {
  max_memory_bytes = cap_memory(max_memory_bytes);
  return write_answer(fd, read_guarded(path, max_memory_bytes), false, max_memory_bytes) ? 0 : 1;
}

int serve_parse_records(int in_fd, int out_fd, size_t max_memory_bytes) {
  max_memory_bytes = cap_memory(max_memory_bytes);
  for (;;) {
    uint32_t length = 0;
    if (!read_all(in_fd, reinterpret_cast<char*>(&length), sizeof length)) return 0;  // done
    if (length == 0 || length > kMaxPathBytes) return 1;
    std::string path(length, '\0');
    if (!read_all(in_fd, path.data(), length)) return 1;
    const Expected<RecordFile> r = read_guarded(path, max_memory_bytes);
    if (!write_answer(out_fd, r, true, max_memory_bytes)) return 1;
    if (!r.ok()) return 0;  // a clean child for the next file
  }
}

// A child process of the pool: its stdin is a socket (writing to a child that died is EPIPE,
// not SIGPIPE), its stdout a pipe. Destroying it closes its stdin, which ends it at its next
// read, and reaps it; kill() first for a child that may be busy.
struct RecordParser::Child {
  pid_t pid = -1;
  int to = -1, from = -1;
  int uses = 0;

  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (to >= 0) ::close(to);
    if (from >= 0) ::close(from);
    reap();
  }
  void kill() {
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  // Waits for the child to end; its wait status (0 when there was no child).
  int reap() {
    int status = 0;
    if (pid > 0) {
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      pid = -1;
    }
    return status;
  }
};

namespace {

Expected<std::unique_ptr<RecordParser::Child>> start_child(const ParserOptions& o) {
  auto child = std::make_unique<RecordParser::Child>();
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Status(ErrorCode::kUnavailable, std::string("socketpair: ") + std::strerror(errno));
  }
  child->to = sv[0];
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(sv[1]);
    return Status(ErrorCode::kUnavailable, std::string("pipe: ") + std::strerror(errno));
  }
  child->from = out[0];
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, sv[1], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  const std::string memory = std::to_string(o.max_memory_bytes);
  std::vector<std::string> args{o.exe, "parse-record", "--serve", "--max-memory", memory};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  const int spawned =
      ::posix_spawn(&child->pid, o.exe.c_str(), &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  ::close(sv[1]);
  ::close(out[1]);
  if (spawned != 0) {
    child->pid = -1;
    return Status(ErrorCode::kUnavailable,
                  "cannot start the record parser " + o.exe + ": " + std::strerror(spawned));
  }
  // The answers come through a pipe of 1 MiB where the system allows (fewer wake-ups).
  ::fcntl(child->from, F_SETPIPE_SZ, 1 << 20);
  return child;
}

enum class ReadEnd { kDone, kClosed, kTimedOut };

// Reads exactly `size` bytes from `fd` before `deadline`.
ReadEnd read_until(int fd, char* data, size_t size,
                   std::chrono::steady_clock::time_point deadline) {
  while (size > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return ReadEnd::kTimedOut;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = ::read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ReadEnd::kClosed;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return ReadEnd::kDone;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

RecordParser::RecordParser(ParserOptions options) : options_(std::move(options)) {}

RecordParser::~RecordParser() = default;

Expected<RecordFile> RecordParser::parse_in(Child& child, const std::string& path, bool& reusable,
                                            bool& ended) {
  reusable = ended = false;
  const auto& o = options_;
  if (path.empty() || path.size() > kMaxPathBytes) {
    return Status(ErrorCode::kInvalidArgument, "the file's path is empty or too long");
  }
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  std::string request(sizeof(uint32_t), '\0');
  const auto length = static_cast<uint32_t>(path.size());
  std::memcpy(request.data(), &length, sizeof length);
  request += path;
  uint64_t size = 0;
  ReadEnd end = ReadEnd::kClosed;
  std::unique_ptr<char[]> wire;
  bool too_big = false;
  if (send_all(child.to, request)) {
    end = read_until(child.from, reinterpret_cast<char*>(&size), sizeof size, deadline);
    const size_t cap = o.limits.max_samples * sizeof(float) + kMaxHeaderBytes;
    if (end == ReadEnd::kDone && size > cap) {
      too_big = true;
    } else if (end == ReadEnd::kDone) {
      wire = std::make_unique_for_overwrite<char[]>(size);  // not zeroed: read() fills it
      end = read_until(child.from, wire.get(), size, deadline);
    }
  }
  if (end == ReadEnd::kDone && !too_big) {
    auto r = decode_record(std::string_view(wire.get(), size), o.limits);
    reusable = r.ok() && ++child.uses < o.max_uses;
    return r;
  }
  if (end == ReadEnd::kTimedOut || too_big) child.kill();
  const int status = child.reap();
  ended = end == ReadEnd::kClosed;
  if (end == ReadEnd::kTimedOut) {
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
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 127) return Status(ErrorCode::kUnavailable, "the record parser did not start");
  return Status(ErrorCode::kInvalidArgument,
                "the parser failed (exit " + std::to_string(code) + ") on this file");
}

Expected<RecordFile> RecordParser::parse(const std::string& path) {
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Child> child;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        child = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!child) {
      auto started = start_child(options_);
      if (!started.ok()) return started.status();
      child = std::move(*started);
      ++started_;
    }
    const bool fresh = child->uses == 0;
    bool reusable = false, ended = false;
    auto r = parse_in(*child, path, reusable, ended);
    if (reusable) {
      std::lock_guard lock(mu_);
      if (idle_.size() < options_.max_idle) idle_.push_back(std::move(child));
    }
    child.reset();  // (outside the lock: ending a child waits for it)
    // A child that ended without an answer after other files may have been damaged by one of
    // them: this file gets one more try in a clean child before it is blamed.
    if (ended && !fresh && attempt == 0) continue;
    return r;
  }
}

Expected<RecordFile> parse_in_child(const std::string& path, const ParserOptions& options) {
  ParserOptions once = options;
  once.max_idle = 0;
  return RecordParser(std::move(once)).parse(path);
}

}  // namespace vigil::records
