#include "fleet/fleet_events.h"

namespace vigil::fleet {
namespace json = boost::json;

namespace {

json::value model_value(const std::optional<ModelRef>& m) {
  if (!m) return nullptr;
  return json::object{{"name", m->name}, {"version", m->version}};
}

}  // namespace

json::object alarm_event(const Alarm& a, std::string_view kind) {
  return {{"kind", kind},
          {"id", a.id},
          {"device", a.device.empty() ? json::value(nullptr) : json::value(a.device)},
          {"sensor", a.sensor.empty() ? json::value(nullptr) : json::value(a.sensor)},
          {"severity", a.severity},
          {"state", a.state},
          {"source", a.source},
          {"count", a.count},
          {"model", model_value(a.model)},
          {"at", a.at},
          {"last_at", a.last_at}};
}

json::object rollout_event(const Rollout& r) {
  json::object counts;  // every state, as GET /rollouts/{id} has them
  for (auto s : {DeviceState::kPending, DeviceState::kSent, DeviceState::kDownloading,
                 DeviceState::kApplied, DeviceState::kConfirmed, DeviceState::kFailed,
                 DeviceState::kTimedOut, DeviceState::kSkipped}) {
    auto it = r.counts.find(std::string(to_string(s)));
    counts[to_string(s)] = it == r.counts.end() ? 0 : it->second;
  }
  return {{"kind", "rollout"},
          {"id", r.id},
          {"state", to_string(r.state)},
          {"reason", r.reason},
          {"action", to_string(r.spec.action)},
          {"target", model_value(r.spec.target)},
          {"counts", std::move(counts)},
          {"updated_at", r.updated_at}};
}

void alarm_changed(const Alarm& alarm, std::string_view kind, RolloutService& rollouts,
                   events::Hub* events) {
  rollouts.wake_all();
  if (events) events->publish("alarms", alarm_event(alarm, kind));
}

void connect_fleet(DeviceHub& hub, RolloutService& rollouts, events::Hub* events) {
  hub.set_hooks(
      {.connected =
           [&rollouts, events](int64_t, std::string_view device) {
             rollouts.wake_all();
             if (events) events->publish("devices", {{"kind", "online"}, {"device", device}});
           },
       .disconnected =
           [events](int64_t, std::string_view device) {
             if (events) events->publish("devices", {{"kind", "offline"}, {"device", device}});
           },
       .command_reported =
           [&rollouts, events](const Command& c) {
             if (c.rollout_id > 0) rollouts.wake(c.rollout_id);
             if (events) {
               events->publish("devices", {{"kind", "command"},
                                           {"device_id", c.device_id},
                                           {"command", c.id},
                                           {"state", c.state},
                                           {"model", model_value(c.model)},
                                           {"rollout", c.rollout_id ? json::value(c.rollout_id)
                                                                    : json::value(nullptr)}});
             }
           },
       .alarm_reported = [&rollouts, events](
                             const Alarm& a) { alarm_changed(a, "reported", rollouts, events); }});
  rollouts.set_on_change([events](const Rollout& r) {
    if (events) events->publish("rollouts", rollout_event(r));
  });
}

}  // namespace vigil::fleet
