#include "fleet/rollout_planner.h"

#include <algorithm>
#include <array>
#include <utility>

namespace vigil::fleet {
namespace {

constexpr std::array<std::pair<RolloutState, std::string_view>, 5> kRolloutStates{{
    {RolloutState::kRunning, "running"},
    {RolloutState::kPaused, "paused"},
    {RolloutState::kHalted, "halted"},
    {RolloutState::kCompleted, "completed"},
    {RolloutState::kAborted, "aborted"},
}};
constexpr std::array<std::pair<DeviceState, std::string_view>, 8> kDeviceStates{{
    {DeviceState::kPending, "pending"},
    {DeviceState::kSent, "sent"},
    {DeviceState::kDownloading, "downloading"},
    {DeviceState::kApplied, "applied"},
    {DeviceState::kConfirmed, "confirmed"},
    {DeviceState::kFailed, "failed"},
    {DeviceState::kTimedOut, "timed_out"},
    {DeviceState::kSkipped, "skipped"},
}};
constexpr std::array<std::pair<RolloutAction, std::string_view>, 3> kActions{{
    {RolloutAction::kUpdate, "update"},
    {RolloutAction::kRollback, "rollback"},
    {RolloutAction::kBlank, "blank"},
}};

template <class E, size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [value, name] : table) {
    if (value == e) return name;
  }
  return "?";
}

template <class E, size_t N>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& table,
                          std::string_view s) {
  for (const auto& [value, name] : table) {
    if (name == s) return value;
  }
  return std::nullopt;
}

// Progress order of the non-final states; a report never moves a device backwards.
int rank(DeviceState s) {
  switch (s) {
    case DeviceState::kPending: return 0;
    case DeviceState::kSent: return 1;
    case DeviceState::kDownloading: return 2;
    case DeviceState::kApplied: return 3;
    default: return 4;
  }
}

bool is_switched(DeviceState s) {
  return s == DeviceState::kApplied || s == DeviceState::kConfirmed;
}

void earliest(std::optional<Clock::time_point>& wake, Clock::time_point t) {
  if (!wake || t < *wake) wake = t;
}

}  // namespace

std::string_view to_string(RolloutState s) { return name_of(kRolloutStates, s); }
std::string_view to_string(DeviceState s) { return name_of(kDeviceStates, s); }
std::string_view to_string(RolloutAction a) { return name_of(kActions, a); }
std::optional<RolloutState> rollout_state_from(std::string_view s) {
  return value_of(kRolloutStates, s);
}
std::optional<DeviceState> device_state_from(std::string_view s) {
  return value_of(kDeviceStates, s);
}
std::optional<RolloutAction> rollout_action_from(std::string_view s) {
  return value_of(kActions, s);
}

bool is_final(DeviceState s) {
  return s == DeviceState::kConfirmed || s == DeviceState::kFailed || s == DeviceState::kTimedOut ||
         s == DeviceState::kSkipped;
}

bool is_in_flight(DeviceState s) {
  return s == DeviceState::kSent || s == DeviceState::kDownloading || s == DeviceState::kApplied;
}

std::optional<DeviceState> after_report(DeviceState current, DeviceState reported) {
  if (is_final(current) || current == DeviceState::kPending) return std::nullopt;
  if (reported == DeviceState::kFailed || reported == DeviceState::kConfirmed) return reported;
  if (reported != DeviceState::kDownloading && reported != DeviceState::kApplied) {
    return std::nullopt;  // a device reports progress, not sent, pending, skipped or timeouts
  }
  if (rank(reported) <= rank(current)) return std::nullopt;
  return reported;
}

std::vector<int> assign_waves(size_t n, const RolloutLimits& limits) {
  std::vector<int> waves(n);
  size_t canary = 0;
  if (limits.canary_percent > 0 && n > 0) {
    canary = std::max<size_t>(1, (n * static_cast<size_t>(limits.canary_percent) + 99) / 100);
  }
  const size_t batch = static_cast<size_t>(std::max(1, limits.batch_size));
  for (size_t i = 0; i < n; ++i) {
    waves[i] = i < canary ? 0 : 1 + static_cast<int>((i - canary) / batch);
  }
  return waves;
}

// The decision being made and each device's state once its changes so far are applied.
struct RolloutPlanner::Work {
  const std::vector<DeviceView>& devices;
  std::vector<DeviceState> state;
  Decision d;

  explicit Work(const std::vector<DeviceView>& devs) : devices(devs) {
    state.reserve(devs.size());
    for (const auto& dev : devs) state.push_back(dev.state);
  }
  void change(size_t i, DeviceState to, std::string reason) {
    state[i] = to;
    d.devices.push_back({devices[i].id, to, std::move(reason)});
  }
};

Decision RolloutPlanner::plan(RolloutState state, const std::vector<DeviceView>& devices,
                              Clock::time_point now) const {
  Work w(devices);
  if (state == RolloutState::kCompleted) return std::move(w.d);
  time_out(w, now);
  if (state != RolloutState::kRunning) return std::move(w.d);
  check_halt(w);
  if (!w.d.rollout) dispatch(w, now);
  return std::move(w.d);
}

void RolloutPlanner::time_out(Work& w, Clock::time_point now) const {
  for (size_t i = 0; i < w.devices.size(); ++i) {
    const DeviceView& dev = w.devices[i];
    if (!is_in_flight(w.state[i]) || !dev.sent_at) continue;
    auto deadline = *dev.sent_at + limits_.device_timeout;
    if (now >= deadline) {
      w.change(i, DeviceState::kTimedOut,
               "not confirmed within " + std::to_string(limits_.device_timeout.count()) +
                   " s of being sent");
    } else {
      earliest(w.d.wake_at, deadline);
    }
  }
}

void RolloutPlanner::check_halt(Work& w) const {
  int finished = 0;
  int failures = 0;
  int switched = 0;
  int alarmed = 0;
  for (size_t i = 0; i < w.devices.size(); ++i) {
    DeviceState s = w.state[i];
    if (s == DeviceState::kConfirmed || s == DeviceState::kFailed || s == DeviceState::kTimedOut) {
      ++finished;
    }
    if (s == DeviceState::kFailed || s == DeviceState::kTimedOut) ++failures;
    if (is_switched(s)) {
      ++switched;
      if (w.devices[i].alarmed) ++alarmed;
    }
  }
  std::string reason;
  if (finished >= std::max(1, limits_.min_sample) &&
      failures * 100 > limits_.max_failure_percent * finished) {
    reason = std::to_string(failures) + " of " + std::to_string(finished) +
             " finished devices failed or timed out (more than max_failure_percent " +
             std::to_string(limits_.max_failure_percent) + "%)";
  } else if (limits_.max_alarm_percent > 0 && switched > 0 &&
             alarmed * 100 > limits_.max_alarm_percent * switched) {
    reason = std::to_string(alarmed) + " of " + std::to_string(switched) +
             " devices running the target raised major or critical alarms (more than "
             "max_alarm_percent " +
             std::to_string(limits_.max_alarm_percent) + "%)";
  }
  if (reason.empty()) return;
  w.d.rollout = RolloutState::kHalted;
  w.d.reason = std::move(reason);
  if (!limits_.auto_rollback) return;
  for (size_t i = 0; i < w.devices.size(); ++i) {
    if (is_switched(w.state[i])) w.d.roll_back.push_back(w.devices[i].id);
  }
}

// Every wave up to and including the first one not done (a device in it neither final nor
// pending while offline).
int RolloutPlanner::open_waves(const Work& w) {
  int max_wave = 0;
  for (const auto& dev : w.devices) max_wave = std::max(max_wave, dev.wave);
  std::vector<char> done(static_cast<size_t>(max_wave) + 1, 1);
  for (size_t i = 0; i < w.devices.size(); ++i) {
    DeviceState s = w.state[i];
    if (!is_final(s) && !(s == DeviceState::kPending && !w.devices[i].online)) {
      done[static_cast<size_t>(w.devices[i].wave)] = 0;
    }
  }
  int open = 0;
  while (open < max_wave && done[static_cast<size_t>(open)]) ++open;
  return open;
}

void RolloutPlanner::dispatch(Work& w, Clock::time_point now) const {
  // Skips first: a device that needs nothing does not hold up its wave.
  for (size_t i = 0; i < w.devices.size(); ++i) {
    const DeviceView& dev = w.devices[i];
    if (w.state[i] != DeviceState::kPending) continue;
    const char* why = !dev.selected     ? "left the rollout's selection"
                      : !dev.has_target ? "has no previous model to go back to"
                      : dev.runs_target ? "already runs the target"
                                        : nullptr;
    if (why) w.change(i, DeviceState::kSkipped, why);
  }
  const int open_until = open_waves(w);
  // Rate: sends in the last 60 s.
  const auto window = std::chrono::minutes(1);
  int budget = limits_.rate_per_minute > 0 ? limits_.rate_per_minute : -1;
  std::optional<Clock::time_point> oldest_recent;
  if (budget > 0) {
    for (const auto& dev : w.devices) {
      if (dev.sent_at && *dev.sent_at > now - window) {
        --budget;
        if (!oldest_recent || *dev.sent_at < *oldest_recent) oldest_recent = dev.sent_at;
      }
    }
    budget = std::max(budget, 0);
  }
  std::vector<size_t> ready;
  for (size_t i = 0; i < w.devices.size(); ++i) {
    const DeviceView& dev = w.devices[i];
    if (dev.wave <= open_until && dev.online && w.state[i] == DeviceState::kPending) {
      ready.push_back(i);
    }
  }
  std::stable_sort(ready.begin(), ready.end(),
                   [&](size_t a, size_t b) { return w.devices[a].wave < w.devices[b].wave; });
  for (size_t i : ready) {
    if (budget == 0) {
      if (oldest_recent) earliest(w.d.wake_at, *oldest_recent + window);
      break;
    }
    w.change(i, DeviceState::kSent, "");
    w.d.send.push_back(w.devices[i].id);
    earliest(w.d.wake_at, now + limits_.device_timeout);
    if (budget > 0 && --budget == 0 && !oldest_recent) oldest_recent = now;
  }
  if (std::all_of(w.state.begin(), w.state.end(), is_final)) {
    w.d.rollout = RolloutState::kCompleted;
  }
}

}  // namespace vigil::fleet
