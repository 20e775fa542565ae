#include "auth/permissions.h"

namespace vigil::auth {

bool is_valid_role(std::string_view role) {
  return role == kRoleAdmin || role == kRoleUser || role == kRoleWatchdog;
}

const std::vector<ActionSpec>& actions() {
  static const std::vector<ActionSpec> kActions = {
      {"public", {}, "No caller needed"},
      {"self", {"admin", "user", "watchdog"}, "Any signed-in caller, about themselves"},
      {"users.read", {"admin"}, "List and read user accounts"},
      {"users.write", {"admin"}, "Create, change and delete user accounts"},
      {"users.self", {"admin", "user"}, "Read or change one's own account (handler checks self)"},
      {"audit.read", {"admin"}, "Read the audit log"},
      {"models.read", {"admin", "user"}, "List and read models, versions and aliases"},
      {"models.write", {"admin"}, "Upload model versions, move aliases, delete versions"},
      {"models.artifact", {"admin", "user", "watchdog"}, "Download a model version's file"},
      {"predict", {"admin", "user"}, "Run synchronous predictions (charged per row)"},
      {"devices.read", {"admin", "user"}, "List and read devices"},
      {"devices.write",
       {"admin"},
       "Register, change, delete devices, assign their models, enroll and remove watchdogs"},
      {"fleet.key", {"admin", "user", "watchdog"}, "Read the public key models are signed with"},
      {"devices.session", {"watchdog"}, "Open the device WebSocket as a watchdog"},
      {"rollouts.read", {"admin", "user"}, "List and read rollouts and their devices"},
      {"rollouts.write", {"admin"}, "Start, pause, resume and abort rollouts"},
      {"events.read",
       {"admin", "user"},
       "Subscribe to live events (each caller gets only the events they may read)"},
      {"alarms.read", {"admin", "user"}, "List and read alarms"},
      {"alarms.report", {"watchdog"}, "Report an alarm on the watchdog's own device"},
      {"alarms.write", {"admin"}, "Acknowledge and clear alarms"},
      {"credits.read",
       {"admin", "user"},
       "Read one's own credits and ledger (admins: anyone's, with ?user=)"},
      {"credits.write", {"admin"}, "Top up or correct a user's credits"},
      {"tasks.submit", {"admin", "user"}, "Submit asynchronous predictions (charged per row)"},
      {"tasks.read",
       {"admin", "user"},
       "List and read tasks: one's own (admins: everyone's; the handler checks)"},
      {"tasks.cancel", {"admin", "user"}, "Cancel a queued task: one's own (admins: any)"},
      {"sensors.read", {"admin", "user"}, "List and read sensors and their series"},
      {"sensors.write", {"admin"}, "Make, change and delete sensors"},
      {"telemetry.write",
       {"admin", "watchdog"},
       "Post points (a watchdog: for its own device's sensors only)"},
      {"records.read", {"admin", "user"}, "List and read sleep records, hypnograms and signals"},
      {"records.write", {"admin", "watchdog"}, "Upload sleep-record files"},
      {"records.delete", {"admin"}, "Delete sleep records"},
  };
  return kActions;
}

const ActionSpec* find_action(std::string_view name) {
  for (const auto& a : actions()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

bool role_allows(std::string_view role, std::string_view action) {
  const ActionSpec* a = find_action(action);
  if (!a) return false;
  if (a->name == "public") return true;
  for (const auto& r : a->roles) {
    if (r == role) return true;
  }
  return false;
}

}  // namespace vigil::auth
