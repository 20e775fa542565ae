// ModelService: the rules of changing the registry from outside (the API and the CLI). An
// upload is checked — name, metadata, kind, and that the kind's runtime can load the file —
// before it is stored; every change (upload, alias move, delete) is announced to whoever
// resolved or loaded the model (serving drops what it cached).
//
// Blocking (store, the load check): call it off the I/O threads. Thread-safe. Errors: kMalformed
// (400) for metadata that is not a JSON object; kInvalidArgument naming the field (name, kind,
// metadata.*, file, alias); kNotFound; kConflict (another kind, a version in use); kUnavailable.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "registry/model_registry.h"

namespace vigil::registry {

// What this server can run, given by the composition root (the registry knows no runtimes).
struct ModelChecks {
  std::vector<std::string> kinds;  // the runtimes' kinds
  // Whether `kind`'s runtime loads the file; kInvalidArgument carries the runtime's reason.
  std::function<Status(std::string_view kind, std::string_view bytes,
                       std::string_view metadata_json)>
      loadable;
};

struct Upload {
  std::string name;
  std::optional<std::string> kind;  // required for a new model; else the model's
  std::string_view bytes;           // the file; the caller keeps it alive for the call
  std::string metadata = "{}";      // a JSON object's text, at most 64 KiB
  int64_t user_id = 0;
};

class ModelService {
 public:
  using ChangeHook = std::function<void(const ModelVersion&)>;
  ModelService(ModelRegistry& registry, ModelChecks checks, ChangeHook on_changed = {});

  Expected<ModelVersion> upload(const Upload& upload);
  Expected<AliasMove> set_alias(std::string_view name, std::string_view alias, int64_t version,
                                int64_t by);
  // `ref`: a version number, "latest", or an alias.
  Status delete_version(std::string_view name, std::string_view ref);
  // Visibility, owner, readers, description; the model's cached resolutions are forgotten.
  Expected<Model> set_access(std::string_view name, const AccessChange& change);

  ModelRegistry& registry() { return registry_; }

 private:
  Expected<std::string> resolve_kind(const Upload& upload);
  ModelRegistry& registry_;
  ModelChecks checks_;
  ChangeHook on_changed_;
};

// Checks the members Vigil reads from a version's metadata (features, price_per_row,
// alarm_threshold, description); other members are kept as given. Errors name the field
// ("metadata.features").
Status validate_model_metadata(const boost::json::object& metadata);

}  // namespace vigil::registry
