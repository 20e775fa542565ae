// Wires the fleet's services together and to the events hub: a device that connects or
// reports, or an alarm, wakes the rollouts; devices going online or offline, command reports,
// alarms and rollout changes are published on the topics "devices", "alarms" and "rollouts"
// (docs/http/events.md). The event bodies are built here, once, for every subscriber.
#pragma once

#include <boost/json/object.hpp>

#include "events/hub.h"
#include "fleet/alarm_store.h"
#include "fleet/device_hub.h"
#include "fleet/rollout_service.h"

namespace vigil::fleet {

// Sets the hub's hooks and the rollout service's change callback. Before either starts;
// `events` may be null (nothing is published). The three outlive what they are wired to.
void connect_fleet(DeviceHub& hub, RolloutService& rollouts, events::Hub* events);

boost::json::object alarm_event(const Alarm& alarm, std::string_view kind);
// What follows a change of an alarm wherever it came from (the device WebSocket, the REST
// fallback, an admin): the rollouts wake, and it is published on "alarms" as `kind`
// ("reported", "acknowledged", "cleared"); `events` may be null.
void alarm_changed(const Alarm& alarm, std::string_view kind, RolloutService& rollouts,
                   events::Hub* events);
boost::json::object rollout_event(const Rollout& rollout);

}  // namespace vigil::fleet
