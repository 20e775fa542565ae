// DeviceStore: the devices of the fleet in the store — name (1–64 of [A-Za-z0-9._-], unique
// ignoring case, stored as given), type, labels, the model each should run (desired), the one
// its watchdog reports (running) and the one it ran before the desired model last changed
// (previous).
//
// Thread-safe; every method blocks on the store (call it off the I/O threads). Errors:
// kInvalidArgument names the bad field ("name", "type", "labels", "model"); kNotFound names the
// device; kAlreadyExists for a duplicate name; kUnavailable when the store is.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/database.h"

namespace vigil::fleet {

struct ModelRef {
  std::string name;
  int64_t version = 0;
  bool operator==(const ModelRef&) const = default;
};

using Labels = std::map<std::string, std::string>;

// A model reference in the store: two columns (name, version), both NULL for none.
inline store::Value model_name_or_null(const std::optional<ModelRef>& m) {
  return m ? store::Value(m->name) : store::Value(std::monostate{});
}
inline store::Value model_version_or_null(const std::optional<ModelRef>& m) {
  return m ? store::Value(m->version) : store::Value(std::monostate{});
}
// The reference in columns col (name) and col + 1 (version) of a row; nullopt when NULL.
inline std::optional<ModelRef> model_at(const store::Rows& rows, size_t r, size_t col) {
  if (rows.is_null(r, col)) return std::nullopt;
  return ModelRef{rows.get_text(r, col), rows.get_int(r, col + 1)};
}

struct Device {
  int64_t id = 0;
  std::string name;
  std::string type = "unknown";
  Labels labels;
  std::optional<ModelRef> model;     // desired
  std::optional<ModelRef> running;   // as reported
  std::optional<ModelRef> previous;  // before the desired model last changed
  std::string last_seen;             // RFC 3339, empty: never
  std::string online_until;          // its session's lease (RFC 3339); empty: offline
  std::string created_at;
  int64_t created_by = 0;

  // Whether a node holds a live session of the device's at `now_rfc3339`.
  bool online_at(std::string_view now_rfc3339) const {
    return !online_until.empty() && online_until > now_rfc3339;
  }
};

struct DeviceFilter {
  std::optional<std::string> type;
  Labels labels;                     // every pair must match
  std::optional<std::string> model;  // desired model name (any case)
  std::optional<int64_t> version;    // with model: desired version
  std::optional<bool> online;        // whose session lease runs now (or not)
  int limit = 50;
  int64_t after_id = 0;  // paging: devices with a larger id
};

struct DeviceUpdate {
  std::optional<std::string> type;
  std::optional<Labels> labels;  // replaces all labels
};

// The limits on a device's fields (checked by create and update).
inline constexpr size_t kMaxLabels = 32;
inline constexpr size_t kMaxLabelValue = 256;

class DeviceStore {
 public:
  explicit DeviceStore(store::Database& db) : db_(db) {}

  Expected<Device> create(std::string_view name, std::string_view type, const Labels& labels,
                          int64_t created_by);
  Expected<Device> get(std::string_view name);
  // In id order, `filter.limit` at most (1–1000).
  Expected<std::vector<Device>> list(const DeviceFilter& filter);
  Expected<Device> update(std::string_view name, const DeviceUpdate& update);
  Status remove(std::string_view name);
  // (Assigning a model is fleet/commands.h's assign_model: it issues a command with it.)
  // What its watchdog reports running (nullopt: no model), and when it was last heard from.
  Status report_running(int64_t device_id, const std::optional<ModelRef>& running,
                        std::string_view seen_at);

  // A device whose desired or running model is this version (any case), if any: why the
  // version may not be deleted.
  Expected<std::optional<std::string>> device_on(std::string_view model, int64_t version);

  // Field rules, without the store.
  static Status validate_name(std::string_view name, std::string_view field = "name");
  static Status validate_type(std::string_view type);
  static Status validate_labels(const Labels& labels);
  // A model name and a version from 1; kInvalidArgument names "model" or "version".
  static Status validate_model(const ModelRef& model);

  // Within a write() of the caller's: the device by name, locked against concurrent changes on
  // PostgreSQL (FOR UPDATE).
  static Expected<Device> get_for_update(store::Session& s, store::Dialect dialect,
                                         std::string_view name);

 private:
  store::Database& db_;
};

}  // namespace vigil::fleet
