// Model artifacts, content-addressed by sha256. The bytes live in the store (table
// artifact_chunks, 1 MiB per row) so every cluster node sees them; each node keeps a local copy
// under <cache_dir>/<sha[0:2]>/<sha> and serves downloads from it. A local copy is written to
// a temporary name and renamed, and checked against its sha256 when fetched from the store, so
// a half-written or corrupted file is never served.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/database.h"

namespace vigil::registry {

inline constexpr size_t kArtifactChunkBytes = size_t{1} << 20;

class ArtifactStore {
 public:
  ArtifactStore(store::Database& db, std::filesystem::path cache_dir);

  // Inside the caller's write transaction: stores the bytes unless an artifact with this sha256
  // exists. `sha256` must be sha256_hex(bytes).
  Status put(store::Session& session, std::string_view sha256, std::string_view bytes);
  // Inside the caller's write transaction: deletes the artifact when no model version refers
  // to it any more. The local copy stays until the next prune (harmless: content-addressed).
  Status release(store::Session& session, std::string_view sha256);

  // Writes the local copy (after put() committed, or to warm the cache). Blocking.
  Status cache_locally(std::string_view sha256, std::string_view bytes);
  // The local copy, fetched from the store first when this node lacks it. Blocking.
  // kNotFound when the store has no such artifact.
  Expected<std::filesystem::path> local_path(std::string_view sha256);
  // Bytes [offset, offset + length) of the local copy (clamped to the end). Blocking.
  Expected<std::string> read(std::string_view sha256, uint64_t offset, uint64_t length);

 private:
  std::filesystem::path path_for(std::string_view sha256) const;
  Status write_file(const std::filesystem::path& path, std::string_view bytes);

  store::Database& db_;
  std::filesystem::path cache_dir_;
  std::mutex fetch_mu_;  // one fetch from the store at a time
};

}  // namespace vigil::registry
