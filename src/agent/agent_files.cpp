#include "agent/agent_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/ids.h"
#include "core/json_text.h"

namespace vigil::agent {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr uint64_t kMaxStateFileBytes = 1 << 20;

Status os_error(const std::string& what, const fs::path& path) {
  return internal_error(what + " " + path.string() + ": " + std::strerror(errno));
}

// The object in `path`, or nullopt when there is no such file.
Expected<std::optional<json::object>> read_object(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<json::object>();
  auto text = read_file(path, kMaxStateFileBytes);
  if (!text.ok()) return text.status();
  boost::system::error_code jec;
  json::value v = parse_json(*text, jec);
  if (jec || !v.is_object()) return malformed(path.string(), "not a JSON object");
  return std::optional<json::object>(std::move(v.as_object()));
}

Expected<std::string> string_member(const json::object& o, const char* name, const fs::path& path) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_string() || v->as_string().empty()) {
    return malformed(path.string(), std::string("no ") + name);
  }
  return std::string(v->as_string());
}

}  // namespace

Status write_file_atomic(const fs::path& path, std::string_view content, unsigned mode) {
  const fs::path tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return os_error("cannot create", tmp);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = os_error("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Status s = os_error("cannot flush", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = os_error("cannot rename onto", path);
    ::unlink(tmp.c_str());
    return s;
  }
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Expected<std::string> read_file(const fs::path& path, uint64_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open " + path.string());
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return internal_error("cannot read " + path.string() + ": " + ec.message());
  if (size > max_bytes) {
    return Status(ErrorCode::kResourceExhausted,
                  path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out(size, '\0');
  if (!in.read(out.data(), static_cast<std::streamsize>(size))) {
    return internal_error("cannot read " + path.string());
  }
  return out;
}

Status prepare_state_dir(const fs::path& dir) {
  for (const fs::path& d : {dir, dir / "models"}) {
    std::error_code ec;
    fs::create_directories(d, ec);
    if (ec) return internal_error("cannot create " + d.string() + ": " + ec.message());
    ::chmod(d.c_str(), 0700);
  }
  return {};
}

fs::path artifact_path(const fs::path& dir, std::string_view sha256) {
  return dir / "models" / std::string(sha256);
}

std::optional<std::string> read_artifact(const fs::path& dir, std::string_view sha256,
                                         uint64_t max_bytes) {
  auto bytes = read_file(artifact_path(dir, sha256), max_bytes);
  if (!bytes.ok() || sha256_hex(*bytes) != sha256) return std::nullopt;
  return std::move(*bytes);
}

Expected<std::optional<Identity>> load_identity(const fs::path& dir) {
  const fs::path path = dir / "agent.json";
  auto o = read_object(path);
  if (!o.ok()) return o.status();
  if (!*o) return std::optional<Identity>();
  Identity id;
  for (auto [field, name] :
       {std::pair{&id.server, "server"}, {&id.token, "token"}, {&id.signing_key, "signing_key"}}) {
    auto v = string_member(**o, name, path);
    if (!v.ok()) return v.status();
    *field = std::move(*v);
  }
  // Unknown until the first welcome for an agent started from a token.
  for (auto [field, name] : {std::pair{&id.watchdog, "watchdog"}, {&id.device, "device"}}) {
    if (const auto* v = (*o)->if_contains(name); v && v->is_string()) *field = v->as_string();
  }
  return std::optional<Identity>(std::move(id));
}

Status save_identity(const fs::path& dir, const Identity& id) {
  return write_file_atomic(dir / "agent.json",
                           json::serialize(json::object{{"server", id.server},
                                                        {"watchdog", id.watchdog},
                                                        {"device", id.device},
                                                        {"token", id.token},
                                                        {"signing_key", id.signing_key}}));
}

Expected<std::optional<InstalledModel>> load_current(const fs::path& dir) {
  const fs::path path = dir / "current.json";
  auto o = read_object(path);
  if (!o.ok()) return o.status();
  if (!*o) return std::optional<InstalledModel>();
  InstalledModel m;
  for (auto [field, name] :
       {std::pair{&m.name, "name"}, {&m.sha256, "sha256"}, {&m.kind, "kind"}}) {
    auto v = string_member(**o, name, path);
    if (!v.ok()) return v.status();
    *field = std::move(*v);
  }
  const auto* version = (*o)->if_contains("version");
  const auto* metadata = (*o)->if_contains("metadata");
  if (!version || !version->is_int64() || version->as_int64() < 1) {
    return malformed(path.string(), "no version");
  }
  if (!metadata || !metadata->is_object()) return malformed(path.string(), "no metadata");
  m.version = version->as_int64();
  m.metadata = json::serialize(*metadata);
  return std::optional<InstalledModel>(std::move(m));
}

Status save_current(const fs::path& dir, const InstalledModel& m) {
  boost::system::error_code ec;
  json::value metadata = parse_json(m.metadata, ec);
  if (ec || !metadata.is_object()) metadata = json::object{};
  return write_file_atomic(dir / "current.json",
                           json::serialize(json::object{{"name", m.name},
                                                        {"version", m.version},
                                                        {"sha256", m.sha256},
                                                        {"kind", m.kind},
                                                        {"metadata", std::move(metadata)}}));
}

}  // namespace vigil::agent
