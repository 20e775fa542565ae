// RolloutService: runs rollouts (../shared/docs/API.md "Fleet"). It stores a rollout with its
// devices in waves, and a driver thread "steps" each live rollout whenever something it waits
// for happens (a device connects, reports, raises an alarm; an admin pauses or resumes; a
// planned wake-up time comes): load the states from the store, ask the RolloutPlanner, write
// its whole decision — device states, commands, the rollout's state and history — in one
// transaction, and only then send the commands through the DeviceHub. A server killed at any
// point resumes from the store: start() steps every rollout that is not finished.
//
// Who did what is in the history: start, pause, resume and abort with the admin, halts and
// completion with the reason and no user.
//
// Thread-safe. Methods other than wake()/wake_all() block on the store. Errors: kNotFound for
// an unknown rollout, or (create) a device name or target version that is not stored;
// kInvalidArgument names the field; kConflict for a transition the rollout's state does not allow
// (pausing a completed rollout); kUnavailable when the store is.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"
#include "fleet/device_hub.h"
#include "fleet/rollout_spec.h"
#include "store/database.h"

namespace vigil::fleet {

struct RolloutHistoryEntry {
  std::string at;
  int64_t by_user = 0;  // 0: the server decided
  std::string from_state;
  std::string to_state;
  std::string reason;
};

struct Rollout {
  int64_t id = 0;
  RolloutSpec spec;
  std::string spec_json;
  RolloutState state = RolloutState::kRunning;
  std::string reason;
  std::string created_at;
  int64_t created_by = 0;
  std::string updated_at;
  std::map<std::string, int64_t> counts;     // device state → devices
  std::vector<RolloutHistoryEntry> history;  // oldest first (get() only)
};

struct RolloutDevice {
  int64_t device_id = 0;
  std::string device;
  int position = 0;
  int wave = 0;
  std::string state;
  std::optional<ModelRef> target;
  std::optional<ModelRef> from;
  int64_t command_id = 0;
  std::string sent_at;
  std::string switched_at;
  std::string reason;
  std::string updated_at;
};

// What a rollout would cover if it started now (POST /api/v1/rollouts/preview).
struct RolloutPreview {
  static constexpr size_t kSample = 20;
  std::optional<ModelRef> target;  // none for a rollback (each device its previous model)
  int64_t devices = 0;             // selected
  int64_t skipped = 0;             // already run their target, or (rollback) have no previous model
  int64_t online = 0;
  std::vector<int64_t> waves;       // devices per wave: the canary first, then the batches
  std::vector<std::string> sample;  // the first kSample names, in the order they would go
};

struct RolloutFilter {
  std::optional<RolloutState> state;
  int limit = 50;
  int64_t before_id = 0;  // newest first; 0: from the newest
};

class RolloutService {
 public:
  using Now = std::function<Clock::time_point()>;
  // `resolve`: the stored version a target names (kNotFound when none) — the hub's offer().
  RolloutService(store::Database& db, DeviceHub& hub, MetricsRegistry& metrics, Now now = nullptr);
  ~RolloutService();
  RolloutService(const RolloutService&) = delete;
  RolloutService& operator=(const RolloutService&) = delete;

  // Starts the driver and wakes every rollout that is not finished (resume after a restart).
  void start();
  void stop();

  // Creates the rollout (the devices selected now, in id order, put in waves) and wakes it.
  // No devices selected is fine: the rollout completes at once.
  Expected<Rollout> create(const RolloutSpec& spec, int64_t by_user);
  // What create() would select now, without storing anything; the same errors.
  Expected<RolloutPreview> preview(const RolloutSpec& spec);
  Expected<Rollout> get(int64_t id);
  Expected<std::vector<Rollout>> list(const RolloutFilter& filter);
  // In position order, after `after_position`.
  Expected<std::vector<RolloutDevice>> devices(int64_t id, std::optional<DeviceState> state,
                                               int limit, int after_position);
  // running → paused; paused or halted → running; any unfinished → aborted.
  Expected<Rollout> pause(int64_t id, int64_t by_user, std::string reason = {});
  Expected<Rollout> resume(int64_t id, int64_t by_user, std::string reason = {});
  Expected<Rollout> abort(int64_t id, int64_t by_user, std::string reason = {});

  // Something a rollout may wait for happened: plan it again soon. Never blocks.
  void wake(int64_t id);
  void wake_all();

  // Plans and acts on one rollout now (the driver's step; tests call it to go step by step).
  // `acted`, when given: whether the planner changed anything.
  Status step(int64_t id, bool* acted = nullptr);
  void count_transition(RolloutState to);  // vigil_fleet_rollout_transitions_total

  // Called with a rollout after a change of its state or of its devices' states is stored.
  void set_on_change(std::function<void(const Rollout&)> fn) { on_change_ = std::move(fn); }

 private:
  void run();
  Expected<std::optional<ModelRef>> resolve_target(const RolloutSpec& spec);
  Expected<Rollout> transition(int64_t id, int64_t by_user, std::string reason, RolloutState to);

  store::Database& db_;
  DeviceHub& hub_;
  MetricsRegistry& metrics_;
  Now now_;
  std::function<void(const Rollout&)> on_change_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::set<int64_t> dirty_;
  bool all_dirty_ = false;
  std::map<int64_t, Clock::time_point> wake_at_;
  // Driver thread only. A rollout whose steps change nothing (its devices are busy: reports
  // of downloads and switches pour in) is stepped less and less often, from every 10 ms to
  // every 200 ms; a step that acts resets it. A step reads every device of its rollout.
  std::map<int64_t, std::pair<std::chrono::steady_clock::duration,
                              std::chrono::steady_clock::time_point>>
      quiet_;  // id → (backoff, not before)
  bool stopping_ = false;
  std::thread driver_;
};

}  // namespace vigil::fleet
