// Commands: what a device is told to run (update, rollback or blank to a model version), kept
// in the store until the device answers with a final state. Issuing a command also makes its
// model the device's desired one (the one it replaces becomes `previous`), and supersedes the
// device's unfinished commands, so a device has at most one unfinished command.
//
// Command states only move forward: open → downloading → applied → confirmed | failed (a
// report may skip steps); superseded when a newer command replaced it. A report on a final or
// superseded command changes nothing.
//
// Every function runs inside the caller's db.write() or db.read() session, so a command, the
// device's desired model and a rollout's device state change in one transaction. Errors:
// kNotFound for an unknown command or device; kUnavailable when the store is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fleet/device_store.h"
#include "fleet/rollout_planner.h"
#include "store/database.h"

namespace vigil::fleet {

struct Command {
  int64_t id = 0;
  int64_t device_id = 0;
  int64_t rollout_id = 0;  // 0: a direct assignment or a catch-up
  RolloutAction action = RolloutAction::kUpdate;
  ModelRef model;
  std::string state;  // open | downloading | applied | confirmed | failed | superseded
  std::string error;
  int64_t confirm_s = 0;
  std::string created_at;
  std::string updated_at;

  bool unfinished() const {
    return state == "open" || state == "downloading" || state == "applied";
  }
};

struct NewCommand {
  int64_t device_id = 0;
  RolloutAction action = RolloutAction::kUpdate;
  ModelRef model;
  int64_t rollout_id = 0;
  int64_t confirm_s = 0;
};

// Supersedes the device's unfinished commands, sets its desired model, and inserts the command.
Expected<Command> issue_command(store::Session& s, store::Dialect dialect, const NewCommand& c,
                                std::string_view now);
Expected<Command> get_command(store::Session& s, int64_t id);
// The device's unfinished command, if any.
Expected<std::optional<Command>> unfinished_command(store::Session& s, int64_t device_id);
// The device's newest command (any state but superseded) for this model, if any.
Expected<std::optional<Command>> latest_command_for(store::Session& s, int64_t device_id,
                                                    const ModelRef& model);
// Applies a device's report. Returns the command as it is now and whether the report changed it.
struct Reported {
  Command command;
  bool changed = false;
};
Expected<Reported> report_command(store::Session& s, int64_t id, DeviceState reported,
                                  std::string_view error, std::string_view now);

// A device's report on its command, all of it: the command's state; on confirmed, what the
// device and its watchdog run; for a rollout's command, the device's state in the rollout
// (RolloutPlanner's after_report; switched_at set on applied or confirmed). kNotFound when the
// command is not this device's.
Expected<Reported> apply_device_report(store::Session& s, int64_t device_id, int64_t watchdog_id,
                                       int64_t command_id, DeviceState reported,
                                       std::string_view error, std::string_view now);

// An admin's direct assignment, in its own transaction: sets the device's desired model (the
// one it replaces, when different, becomes `previous`) with an update command to run it,
// unless the device already has that desired model and runs it or has an unfinished command
// for it — then nothing changes and `command` is empty. A device that already runs the model
// (and has no unfinished command) only gets it as its desired model, without a command.
// kInvalidArgument names "model" or "version"; kNotFound names the device.
struct Assignment {
  Device device;
  std::optional<Command> command;  // to send to the device's sessions
};
Expected<Assignment> assign_model(store::Database& db, std::string_view device,
                                  const ModelRef& model);

}  // namespace vigil::fleet
