// The model registry: named models of one kind (runtime), immutable versions numbered 1, 2, 3…
// that are never reused (deleting v3 and uploading again gives v4), and aliases that point at
// a version and can move, every move kept in the alias history. Model and alias names are
// compared case-insensitively; model names are stored as given, aliases in lower case.
//
// The registry checks names, versions and references; whether a runtime can load the bytes is
// the caller's concern (ModelService checks before add_version). Thread-safe; every method
// blocks on the store, so call it off the I/O threads when it writes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "registry/artifact_store.h"
#include "store/database.h"

namespace vigil::registry {

// Who may read a model (API.md "Model registry", visibility): a public model anyone signed in; a
// private one its owner, its readers, admins — and watchdogs, which download only what their
// device is told to run.
struct ModelAccess {
  bool is_private = false;
  int64_t owner_id = 0;  // 0: none
  std::vector<int64_t> readers;
  std::string description;
  bool may_read(int64_t user_id, std::string_view role) const;
};

// Who is asking, for lists that leave out what they may not read.
struct Viewer {
  int64_t user_id = 0;
  std::string role;
};

// PATCH /api/v1/models/{name}: what is given changes.
struct AccessChange {
  std::optional<bool> is_private;
  std::optional<int64_t> owner_id;  // 0: none
  std::optional<std::vector<int64_t>> readers;
  std::optional<std::string> description;
};

struct ModelVersion {
  int64_t model_id = 0;
  std::string model;  // the model's name as stored
  std::string kind;
  int64_t version = 0;
  std::string sha256;
  int64_t size = 0;
  std::string metadata;  // a JSON object, as given
  std::string created_at;
  int64_t created_by = 0;  // 0: unknown (deleted user, or the server itself)
  std::vector<std::string> aliases;
  ModelAccess access;  // the model's
};

struct Model {
  int64_t id = 0;
  std::string name;
  std::string kind;
  std::string created_at;
  int64_t created_by = 0;
  int64_t latest_version = 0;  // 0: no versions (all deleted)
  std::map<std::string, int64_t> aliases;
  ModelAccess access;
};

struct AliasMove {
  int64_t id = 0;
  std::string alias;
  int64_t from_version = 0;  // 0: the alias was new
  int64_t to_version = 0;
  std::string at;
  int64_t by = 0;
};

// Asked before a version is deleted: a reason it is in use (a device runs it, ...), or nullopt.
// `name`: the model's name as stored.
using InUseCheck = std::function<Expected<std::optional<std::string>>(
    int64_t model_id, std::string_view name, int64_t version)>;

class ModelRegistry {
 public:
  ModelRegistry(store::Database& db, ArtifactStore& artifacts);

  // Stores bytes as the next version of `name`, creating the model on its first version.
  // kind: required for a new model; for an existing one it must match (kConflict otherwise).
  // metadata: a JSON object's text. kInvalidArgument names the bad field ("name", "kind").
  Expected<ModelVersion> add_version(std::string_view name, std::optional<std::string> kind,
                                     std::string_view bytes, std::string metadata,
                                     int64_t created_by);

  // Models by name (case-insensitive order), after `after_id`'s name when paging by id; with a
  // viewer, only those they may read.
  Expected<std::vector<Model>> list(int limit, std::optional<int64_t> after_id,
                                    std::optional<Viewer> viewer = std::nullopt);
  Expected<Model> get(std::string_view name);
  Expected<std::vector<ModelVersion>> versions(const Model& model);
  // `ref`: a version number, "latest", or an alias. kNotFound names what is missing.
  Expected<ModelVersion> resolve(std::string_view name, std::string_view ref);
  Expected<std::vector<AliasMove>> alias_history(const Model& model, int limit);
  // Changes who may read the model and its description. kInvalidArgument names "owner" or
  // "readers" when a user id is not a user.
  Expected<Model> set_access(std::string_view name, const AccessChange& change);

  // Points `alias` at `version` (kNotFound when that version does not exist). The alias may
  // not look like a version reference: not a number, not "latest".
  Expected<AliasMove> set_alias(std::string_view name, std::string_view alias, int64_t version,
                                int64_t by);
  // kConflict while an alias points at it or an InUseCheck says so.
  Status delete_version(std::string_view name, int64_t version);
  void add_in_use_check(InUseCheck check);

  // Creates model `blank` (kind blank) with its empty version 1 unless a model of that name
  // exists. Called at start-up.
  Status ensure_blank_model();

  ArtifactStore& artifacts() { return artifacts_; }

 private:
  store::Database& db_;
  ArtifactStore& artifacts_;
  std::vector<InUseCheck> in_use_checks_;  // added before serving; read-only afterwards
};

// "3" → 3; anything else (0, negatives, "03x") → nullopt.
std::optional<int64_t> parse_version_number(std::string_view s);

}  // namespace vigil::registry
