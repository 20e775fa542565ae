#include "registry/artifact_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/ids.h"

namespace vigil::registry {

namespace fs = std::filesystem;
using P = std::vector<store::Value>;

namespace {

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

ArtifactStore::ArtifactStore(store::Database& db, fs::path cache_dir)
    : db_(db), cache_dir_(std::move(cache_dir)) {}

fs::path ArtifactStore::path_for(std::string_view sha256) const {
  return cache_dir_ / std::string(sha256.substr(0, 2)) / std::string(sha256);
}

Status ArtifactStore::put(store::Session& s, std::string_view sha256, std::string_view bytes) {
  if (!is_sha256_hex(sha256)) return invalid_argument("not a sha256");
  auto existing = s.query("SELECT size FROM artifacts WHERE sha256 = $1", P{std::string(sha256)});
  if (!existing.ok()) return existing.status();
  if (!existing->empty()) return {};
  int64_t chunks =
      static_cast<int64_t>((bytes.size() + kArtifactChunkBytes - 1) / kArtifactChunkBytes);
  auto n =
      s.exec("INSERT INTO artifacts (sha256, size, chunks, created_at) VALUES ($1, $2, $3, $4)",
             P{std::string(sha256), static_cast<int64_t>(bytes.size()), chunks, now_rfc3339()});
  if (!n.ok()) return n.status();
  for (int64_t i = 0; i < chunks; ++i) {
    auto part = bytes.substr(static_cast<size_t>(i) * kArtifactChunkBytes, kArtifactChunkBytes);
    auto c = s.exec("INSERT INTO artifact_chunks (sha256, seq, bytes) VALUES ($1, $2, $3)",
                    P{std::string(sha256), i, store::Blob{std::string(part)}});
    if (!c.ok()) return c.status();
  }
  return {};
}

Status ArtifactStore::release(store::Session& s, std::string_view sha256) {
  auto used =
      s.query("SELECT COUNT(*) FROM model_versions WHERE sha256 = $1", P{std::string(sha256)});
  if (!used.ok()) return used.status();
  if (used->get_int(0, 0) > 0) return {};
  for (const char* sql : {"DELETE FROM artifact_chunks WHERE sha256 = $1",
                          "DELETE FROM artifacts WHERE sha256 = $1"}) {
    auto n = s.exec(sql, P{std::string(sha256)});
    if (!n.ok()) return n.status();
  }
  return {};
}

Status ArtifactStore::write_file(const fs::path& path, std::string_view bytes) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fs::path tmp = path;
  tmp += ".tmp-" + random_token(6);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0)
    return unavailable("cannot write the artifact cache: " + std::string(std::strerror(errno)));
  std::string_view rest = bytes;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      fs::remove(tmp, ec);
      return unavailable("cannot write the artifact cache: " + std::string(std::strerror(err)));
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  ::close(fd);
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return unavailable("cannot write the artifact cache: " + ec.message());
  }
  return {};
}

Status ArtifactStore::cache_locally(std::string_view sha256, std::string_view bytes) {
  if (!is_sha256_hex(sha256)) return invalid_argument("not a sha256");
  fs::path path = path_for(sha256);
  std::error_code ec;
  if (fs::exists(path, ec)) return {};
  return write_file(path, bytes);
}

Expected<fs::path> ArtifactStore::local_path(std::string_view sha256) {
  if (!is_sha256_hex(sha256)) return not_found("no such artifact");
  fs::path path = path_for(sha256);
  std::error_code ec;
  if (fs::exists(path, ec)) return path;
  std::lock_guard lock(fetch_mu_);
  if (fs::exists(path, ec)) return path;
  std::string bytes;
  Status s = db_.read([&](store::Session& session) -> Status {
    auto meta = session.query("SELECT size, chunks FROM artifacts WHERE sha256 = $1",
                              P{std::string(sha256)});
    if (!meta.ok()) return meta.status();
    if (meta->empty()) return not_found("no such artifact");
    bytes.reserve(static_cast<size_t>(meta->get_int(0, 0)));
    int64_t chunks = meta->get_int(0, 1);
    for (int64_t i = 0; i < chunks; ++i) {
      auto c = session.query("SELECT bytes FROM artifact_chunks WHERE sha256 = $1 AND seq = $2",
                             P{std::string(sha256), i});
      if (!c.ok()) return c.status();
      if (c->empty()) return internal_error("artifact " + std::string(sha256) + " lacks a chunk");
      bytes += c->get_blob(0, 0);
    }
    return {};
  });
  if (!s.ok()) return s;
  if (sha256_hex(bytes) != sha256) {
    return internal_error("artifact " + std::string(sha256) + " is corrupt in the store");
  }
  VIGIL_RETURN_IF_ERROR(write_file(path, bytes));
  return path;
}

Expected<std::string> ArtifactStore::read(std::string_view sha256, uint64_t offset,
                                          uint64_t length) {
  auto path = local_path(sha256);
  if (!path.ok()) return path.status();
  int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return unavailable("cannot read the artifact cache: " + std::string(std::strerror(errno)));
  std::string out;
  out.resize(static_cast<size_t>(length));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return unavailable("cannot read the artifact cache: " + std::string(std::strerror(err)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

}  // namespace vigil::registry
