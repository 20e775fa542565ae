// RolloutPlanner: the rules of a rollout as pure logic over states. Given a rollout, the devices
// it covers and the time, it decides what changes next: which devices to send their command,
// which time out or are skipped, and whether the rollout halts or completes. It does no I/O and
// reads no clock: the rollout service loads the states from the store, calls plan(), writes
// the decision in one transaction, and only then acts on it (sends the commands), so a restart
// resumes from the store. Unit-tested with a fake clock.
//
// The rules (../shared/docs/API.md, "Fleet"):
// - Devices are put in waves when the rollout starts (assign_waves): a canary of
//   canary_percent (at least one device when the percent is not 0), then batches of
//   batch_size. A wave opens when every device of the earlier waves is final or is pending
//   while offline (an offline device gets its command when it connects, and does not hold up
//   the rest).
// - A pending device of an open wave is skipped when it already runs its target (or, for a
//   rollback, has no previous model, or left the selection); it is sent its command when it is
//   online, never more than rate_per_minute sends in any 60 s (0: no limit).
// - A sent device must reach `confirmed` within device_timeout of being sent, or it is
//   timed_out (a failure).
// - Once min_sample devices are final (confirmed, failed or timed_out), failures above
//   max_failure_percent halt the rollout; so do alarms (major or critical, since they
//   switched) from more than max_alarm_percent of the devices running the target (0: off).
//   With auto_rollback a halt asks for the switched devices to be sent back.
// - A running rollout whose devices are all final is completed. A paused, halted or aborted one
//   sends nothing, but its devices' reports and timeouts are still recorded.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::fleet {

using Clock = std::chrono::system_clock;

enum class RolloutState { kRunning, kPaused, kHalted, kCompleted, kAborted };
enum class DeviceState {
  kPending,
  kSent,
  kDownloading,
  kApplied,
  kConfirmed,
  kFailed,
  kTimedOut,
  kSkipped
};
enum class RolloutAction { kUpdate, kRollback, kBlank };

std::string_view to_string(RolloutState s);
std::string_view to_string(DeviceState s);
std::string_view to_string(RolloutAction a);
std::optional<RolloutState> rollout_state_from(std::string_view s);
std::optional<DeviceState> device_state_from(std::string_view s);
std::optional<RolloutAction> rollout_action_from(std::string_view s);

// confirmed, failed, timed_out, skipped: the device's part of the rollout is over.
bool is_final(DeviceState s);
// sent, downloading, applied: the device has its command and has not finished.
bool is_in_flight(DeviceState s);

// The state a device's report moves it to, or nullopt when the report does not apply (a final
// state does not change; a device does not go back, e.g. applied → downloading).
std::optional<DeviceState> after_report(DeviceState current, DeviceState reported);

struct RolloutLimits {
  int canary_percent = 10;
  int batch_size = 100;
  int rate_per_minute = 0;  // 0: no limit
  int max_failure_percent = 5;
  int min_sample = 5;
  int max_alarm_percent = 0;  // 0: off
  std::chrono::seconds device_timeout{300};
  std::chrono::seconds confirm{30};
  bool auto_rollback = false;
};

// The wave of each of n devices (in the order given): 0 the canary, then 1, 2, … batches.
std::vector<int> assign_waves(size_t n, const RolloutLimits& limits);

// One device of a rollout, as the planner needs it.
struct DeviceView {
  int64_t id = 0;
  DeviceState state = DeviceState::kPending;
  int wave = 0;
  bool online = false;
  bool runs_target = false;  // already runs what it would be sent to
  bool has_target = true;    // false: a rollback with no previous model to go back to
  bool selected = true;      // false: it left the rollout's selection
  bool alarmed = false;      // raised a major or critical alarm since it switched
  std::optional<Clock::time_point> sent_at;
};

struct DeviceChange {
  int64_t id = 0;
  DeviceState to = DeviceState::kPending;
  std::string reason;
};

struct Decision {
  std::vector<DeviceChange> devices;  // in the order to write them
  std::vector<int64_t> send;          // devices to send their command (also in `devices`, → sent)
  std::optional<RolloutState> rollout;       // the rollout's new state
  std::string reason;                        // why (a halt's reason)
  std::vector<int64_t> roll_back;            // auto_rollback: the switched devices to send back
  std::optional<Clock::time_point> wake_at;  // plan again then at the latest (rate, timeouts)

  bool empty() const { return devices.empty() && !rollout; }
};

// O(devices) per plan(). Stateless apart from the limits: safe to share between threads.
class RolloutPlanner {
 public:
  explicit RolloutPlanner(RolloutLimits limits) : limits_(limits) {}

  Decision plan(RolloutState state, const std::vector<DeviceView>& devices,
                Clock::time_point now) const;

 private:
  struct Work;
  void time_out(Work& w, Clock::time_point now) const;
  void check_halt(Work& w) const;
  void dispatch(Work& w, Clock::time_point now) const;
  static int open_waves(const Work& w);

  RolloutLimits limits_;
};

}  // namespace vigil::fleet
