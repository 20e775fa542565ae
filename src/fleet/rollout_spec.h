// What an admin asks a rollout to do (../shared/docs/API.md "Fleet", the rollout body): which
// devices (select), what to do (action and target) and how carefully (limits). Parsing the
// request body is a pure function with a fuzz target (fuzz/rollout_spec_fuzz.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fleet/device_store.h"
#include "fleet/rollout_planner.h"

namespace vigil::fleet {

// At most this many names in {"devices":[…]}.
inline constexpr size_t kMaxRolloutDeviceNames = 10000;

struct RolloutSelect {
  enum class Kind { kModel, kDevices, kLabels, kAll } kind = Kind::kAll;
  ModelRef model;                    // kModel: devices whose desired model is this version
  std::vector<std::string> devices;  // kDevices
  Labels labels;                     // kLabels: every pair must match
};

struct RolloutSpec {
  RolloutSelect select;
  RolloutAction action = RolloutAction::kUpdate;
  std::optional<ModelRef> target;  // update: required; rollback, blank: none
  RolloutLimits limits;
};

struct ParsedRolloutSpec {
  std::optional<RolloutSpec> spec;
  std::string malformed;                                    // not a JSON object (→ 400)
  std::vector<std::pair<std::string, std::string>> errors;  // field → why (→ 422)
};

ParsedRolloutSpec parse_rollout_spec(std::string_view body);

// The spec as JSON text, every limit spelled out (what GET /rollouts/{id} shows).
std::string rollout_spec_json(const RolloutSpec& spec);

// Whether a device with this desired model and labels falls in the selection (device lists are
// matched by the caller).
bool selects(const RolloutSelect& select, const std::optional<ModelRef>& desired,
             const Labels& labels);

}  // namespace vigil::fleet
