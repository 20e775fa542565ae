#include "fleet/commands.h"

#include <map>
#include <string>

#include "core/ids.h"

namespace vigil::fleet {
namespace {

using store::Value;

constexpr std::string_view kColumns =
    "id, device_id, rollout_id, action, model, model_version, state, error, confirm_s, "
    "created_at, updated_at";

Command command_at(const store::Rows& rows, size_t r) {
  Command c;
  c.id = rows.get_int(r, 0);
  c.device_id = rows.get_int(r, 1);
  c.rollout_id = rows.get_int(r, 2);
  c.action = rollout_action_from(rows.get_text(r, 3)).value_or(RolloutAction::kUpdate);
  c.model = {rows.get_text(r, 4), rows.get_int(r, 5)};
  c.state = rows.get_text(r, 6);
  c.error = rows.get_text(r, 7);
  c.confirm_s = rows.get_int(r, 8);
  c.created_at = rows.get_text(r, 9);
  c.updated_at = rows.get_text(r, 10);
  return c;
}

Expected<std::optional<Command>> first(Expected<store::Rows> rows) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Command>();
  return std::optional<Command>(command_at(*rows, 0));
}

// Forward order of the command states a device reports; final ones last.
int rank(std::string_view state) {
  if (state == "open") return 0;
  if (state == "downloading") return 1;
  if (state == "applied") return 2;
  return 3;  // confirmed, failed, superseded
}

}  // namespace

// Sets the device's desired model; the one it replaces (when different) becomes previous.
static Status set_desired(store::Session& s, store::Dialect dialect, int64_t device_id,
                          const ModelRef& model) {
  Value id(device_id);
  auto dev = s.query(std::string("SELECT model, model_version, previous_model, previous_version "
                                 "FROM devices WHERE id = $1") +
                         (dialect == store::Dialect::kPostgres ? " FOR UPDATE" : ""),
                     std::span(&id, 1));
  if (!dev.ok()) return dev.status();
  if (dev->empty()) return not_found("no device with id " + std::to_string(device_id));
  std::optional<ModelRef> desired, previous;
  if (!dev->is_null(0, 0)) desired = ModelRef{dev->get_text(0, 0), dev->get_int(0, 1)};
  if (!dev->is_null(0, 2)) previous = ModelRef{dev->get_text(0, 2), dev->get_int(0, 3)};
  if (desired && !(*desired == model)) previous = desired;
  std::vector<Value> p{model.name, model.version,
                       previous ? Value(previous->name) : Value(std::monostate{}),
                       previous ? Value(previous->version) : Value(std::monostate{}), device_id};
  return s
      .exec(
          "UPDATE devices SET model = $1, model_version = $2, previous_model = $3, "
          "previous_version = $4 WHERE id = $5",
          p)
      .status();
}

Expected<Command> issue_command(store::Session& s, store::Dialect dialect, const NewCommand& c,
                                std::string_view now) {
  VIGIL_RETURN_IF_ERROR(set_desired(s, dialect, c.device_id, c.model));
  std::vector<Value> q{std::string(now), c.device_id};
  VIGIL_RETURN_IF_ERROR(s.exec("UPDATE commands SET state = 'superseded', updated_at = $1 "
                               "WHERE device_id = $2 AND state IN ('open', 'downloading', "
                               "'applied')",
                               q)
                            .status());
  std::vector<Value> r{c.device_id,
                       c.rollout_id > 0 ? Value(c.rollout_id) : Value(std::monostate{}),
                       std::string(to_string(c.action)),
                       c.model.name,
                       c.model.version,
                       c.confirm_s,
                       std::string(now)};
  auto rows = s.query(
      "INSERT INTO commands (device_id, rollout_id, action, model, model_version, state, error, "
      "confirm_s, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'open', '', $6, $7, $7) "
      "RETURNING " +
          std::string(kColumns),
      r);
  if (!rows.ok()) return rows.status();
  return command_at(*rows, 0);
}

Expected<Command> get_command(store::Session& s, int64_t id) {
  Value p(id);
  auto c = first(s.query("SELECT " + std::string(kColumns) + " FROM commands WHERE id = $1",
                         std::span(&p, 1)));
  if (!c.ok()) return c.status();
  if (!*c) return not_found("no command " + std::to_string(id));
  return std::move(**c);
}

Expected<std::optional<Command>> unfinished_command(store::Session& s, int64_t device_id) {
  Value p(device_id);
  return first(s.query("SELECT " + std::string(kColumns) +
                           " FROM commands WHERE device_id = $1 AND state IN ('open', "
                           "'downloading', 'applied') ORDER BY id DESC LIMIT 1",
                       std::span(&p, 1)));
}

Expected<std::optional<Command>> latest_command_for(store::Session& s, int64_t device_id,
                                                    const ModelRef& model) {
  std::vector<Value> p{device_id, model.name, model.version};
  return first(s.query("SELECT " + std::string(kColumns) +
                           " FROM commands WHERE device_id = $1 AND model = $2 AND "
                           "model_version = $3 AND state <> 'superseded' ORDER BY id DESC LIMIT 1",
                       p));
}

namespace {

// report_command on a command already read.
Expected<Reported> report_loaded(store::Session& s, Command c, DeviceState reported,
                                 std::string_view error, std::string_view now) {
  const int64_t id = c.id;
  Reported out{std::move(c), false};
  const std::string to(to_string(reported));
  if (!out.command.unfinished() || rank(to) <= rank(out.command.state)) return out;
  std::vector<Value> p{to, std::string(error), std::string(now), id};
  VIGIL_RETURN_IF_ERROR(
      s.exec("UPDATE commands SET state = $1, error = $2, updated_at = $3 WHERE id = $4", p)
          .status());
  out.command.state = to;
  out.command.error = error;
  out.command.updated_at = now;
  out.changed = true;
  return out;
}

// The rollout-device states a report of `reported` moves on (to `reported`), as after_report
// says: the guard of one UPDATE instead of a read and a write.
std::string states_moved_by(DeviceState reported) {
  std::string in;
  for (DeviceState cur : {DeviceState::kPending, DeviceState::kSent, DeviceState::kDownloading,
                          DeviceState::kApplied, DeviceState::kConfirmed, DeviceState::kFailed,
                          DeviceState::kTimedOut, DeviceState::kSkipped}) {
    if (after_report(cur, reported) == reported) {
      in += (in.empty() ? "'" : ", '") + std::string(to_string(cur)) + "'";
    }
  }
  return in;
}

}  // namespace

Expected<Reported> report_command(store::Session& s, int64_t id, DeviceState reported,
                                  std::string_view error, std::string_view now) {
  auto c = get_command(s, id);
  if (!c.ok()) return c.status();
  return report_loaded(s, std::move(*c), reported, error, now);
}

Expected<Reported> apply_device_report(store::Session& s, int64_t device_id, int64_t watchdog_id,
                                       int64_t command_id, DeviceState reported,
                                       std::string_view error, std::string_view now) {
  auto c = get_command(s, command_id);
  if (!c.ok()) return c.status();
  if (c->device_id != device_id) return not_found("no command " + std::to_string(command_id));
  auto r = report_loaded(s, std::move(*c), reported, error, now);
  if (!r.ok() || !r->changed) return r;
  const Command& cmd = r->command;
  if (reported == DeviceState::kConfirmed) {
    std::vector<Value> p{cmd.model.name, cmd.model.version, std::string(now), device_id};
    VIGIL_RETURN_IF_ERROR(s.exec("UPDATE devices SET running_model = $1, running_version = $2, "
                                 "last_seen = $3 WHERE id = $4",
                                 p)
                              .status());
    if (watchdog_id > 0) {
      std::vector<Value> q{cmd.model.name, cmd.model.version, std::string(now), watchdog_id};
      VIGIL_RETURN_IF_ERROR(s.exec("UPDATE watchdogs SET running_model = $1, running_version = "
                                   "$2, last_seen = $3 WHERE id = $4",
                                   q)
                                .status());
    }
  }
  if (cmd.rollout_id == 0) return r;
  // The rollout's row moves on when this command is its command (not, say, an auto-rollback's)
  // and its state allows it (after_report); otherwise nothing matches.
  static const std::map<DeviceState, std::string> kGuards = [] {
    std::map<DeviceState, std::string> g;
    for (DeviceState st : {DeviceState::kDownloading, DeviceState::kApplied,
                           DeviceState::kConfirmed, DeviceState::kFailed}) {
      g[st] = states_moved_by(st);
    }
    return g;
  }();
  auto guard = kGuards.find(reported);
  if (guard == kGuards.end() || guard->second.empty()) return r;
  const bool switched = reported == DeviceState::kApplied || reported == DeviceState::kConfirmed;
  std::vector<Value> u{std::string(to_string(reported)),
                       std::string(error),
                       std::string(now),
                       switched ? Value(std::string(now)) : Value(std::monostate{}),
                       cmd.rollout_id,
                       device_id,
                       cmd.id};
  VIGIL_RETURN_IF_ERROR(s.exec("UPDATE rollout_devices SET state = $1, reason = $2, updated_at = "
                               "$3, switched_at = COALESCE(switched_at, $4) WHERE rollout_id = "
                               "$5 AND device_id = $6 AND command_id = $7 AND state IN (" +
                                   guard->second + ")",
                               u)
                            .status());
  return r;
}

Expected<Assignment> assign_model(store::Database& db, std::string_view device,
                                  const ModelRef& model) {
  VIGIL_RETURN_IF_ERROR(DeviceStore::validate_model(model));
  return store::write_returning<Assignment>(db, [&](store::Session& s) -> Expected<Assignment> {
    auto d = DeviceStore::get_for_update(s, db.dialect(), device);
    if (!d.ok()) return d.status();
    Assignment out{std::move(*d), std::nullopt};
    auto open = unfinished_command(s, out.device.id);
    if (!open.ok()) return open.status();
    if (out.device.model == model && *open && (*open)->model == model) return out;
    if (out.device.running == model && !*open) {
      // It runs it already: nothing to send.
      if (out.device.model == model) return out;
      VIGIL_RETURN_IF_ERROR(set_desired(s, db.dialect(), out.device.id, model));
      auto again = DeviceStore::get_for_update(s, db.dialect(), device);
      if (!again.ok()) return again.status();
      out.device = std::move(*again);
      return out;
    }
    auto c = issue_command(
        s, db.dialect(),
        {.device_id = out.device.id, .action = RolloutAction::kUpdate, .model = model},
        now_rfc3339());
    if (!c.ok()) return c.status();
    out.command = std::move(*c);
    auto again = DeviceStore::get_for_update(s, db.dialect(), device);
    if (!again.ok()) return again.status();
    out.device = std::move(*again);
    return out;
  });
}

}  // namespace vigil::fleet
