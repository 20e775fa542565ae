// What `vigil agent` keeps on disk, in its state directory (docs/agent.md):
//   agent.json     its identity: the server, watchdog, device, token and the key models are
//                  signed with (mode 0600: the token is a secret);
//   current.json   the model it runs, so a restarted agent runs it again at once;
//   models/<sha256> the artifacts it has fetched and checked.
// Every file is written to a temporary file beside it, fsynced and renamed over it, so a crash
// leaves the old file or the new one, never half of one.
//
// Thread safety: free functions with no shared state; callers serialise writes of one file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vigil::agent {

struct Identity {
  std::string server;    // the URL it enrolled with
  std::string watchdog;  // "" until the first welcome when started from a token
  std::string device;
  std::string token;        // the watchdog's bearer token
  std::string signing_key;  // the server's Ed25519 public key, base64
};

// nullopt: no agent.json yet. kMalformed: a file that is not what save_identity writes.
Expected<std::optional<Identity>> load_identity(const std::filesystem::path& dir);
Status save_identity(const std::filesystem::path& dir, const Identity& identity);

// A model version the agent has checked, as the server offered it.
struct InstalledModel {
  std::string name;
  int64_t version = 0;
  std::string sha256;  // lower-case hex of the artifact
  std::string kind;    // the runtime: xgboost, linear, blank, …
  std::string metadata = "{}";
  bool operator==(const InstalledModel&) const = default;
};

Expected<std::optional<InstalledModel>> load_current(const std::filesystem::path& dir);
Status save_current(const std::filesystem::path& dir, const InstalledModel& model);

// dir/models/<sha256>.
std::filesystem::path artifact_path(const std::filesystem::path& dir, std::string_view sha256);

// The bytes of dir/models/<sha256> when the file is there, within max_bytes, and its sha256
// matches; nullopt otherwise (missing, too large, damaged).
std::optional<std::string> read_artifact(const std::filesystem::path& dir, std::string_view sha256,
                                         uint64_t max_bytes);

// Creates dir (and dir/models) with mode 0700 when missing.
Status prepare_state_dir(const std::filesystem::path& dir);

// `content` into `path` with `mode`, atomically (temp file, fsync, rename, fsync of the dir).
Status write_file_atomic(const std::filesystem::path& path, std::string_view content,
                         unsigned mode = 0600);
Expected<std::string> read_file(const std::filesystem::path& path, uint64_t max_bytes);

}  // namespace vigil::agent
