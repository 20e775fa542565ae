// vigil rollout start | list | show | devices | pause | resume | abort: rollouts of models to the
// fleet's devices, over HTTP against a running server (docs/http/fleet.md "Rollouts").
//
// `start` sends only what its flags give, so the server's defaults apply to the rest, and leaves
// checking the values to the server (fleet/rollout_spec.h): a value it refuses exits 2 with its
// reason, naming the body's field (each flag is named after its field). Only text that is no
// integer where one is needed is refused here.
#include <boost/json.hpp>

#include <charconv>
#include <cstdio>
#include <map>

#include "cli/remote.h"

namespace vigil::cli {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;

struct RolloutArgs {
  RemoteOptions remote;
  std::string id;
  // start: the selection, the action and its target, the limits
  std::string select_model, select_version;
  std::vector<std::string> devices;
  std::vector<std::string> labels;  // KEY=VALUE
  bool all = false;
  std::string action, to_model, to_version;
  std::string canary_percent, batch_size, rate_per_minute, max_failure_percent, min_sample,
      max_alarm_percent, device_timeout_s, confirm_s;
  bool auto_rollback = false;
  bool dry_run = false;
  // list, devices; pause, resume, abort
  std::string state, limit, cursor, reason;
};

// The integer limits of a rollout: flag, the body's field, where the flag's value goes, help.
struct LimitFlag {
  const char* flag;
  const char* field;
  std::string RolloutArgs::*value;
  const char* help;
};

constexpr LimitFlag kLimits[] = {
    {"--canary-percent", "canary_percent", &RolloutArgs::canary_percent,
     "Percent of the devices in the first wave, 0-100 (default 10; not 0: at least one device)"},
    {"--batch-size", "batch_size", &RolloutArgs::batch_size,
     "Devices per wave after the canary, 1-100000 (default 100)"},
    {"--rate-per-minute", "rate_per_minute", &RolloutArgs::rate_per_minute,
     "Commands sent in any 60 s at most, 0-1000000 (default 0: no limit)"},
    {"--max-failure-percent", "max_failure_percent", &RolloutArgs::max_failure_percent,
     "Halt when more of the finished devices failed, 0-100 (default 5)"},
    {"--min-sample", "min_sample", &RolloutArgs::min_sample,
     "Finished devices before failures can halt it, 1-100000 (default 5)"},
    {"--max-alarm-percent", "max_alarm_percent", &RolloutArgs::max_alarm_percent,
     "Halt when more of the switched devices raise major or critical alarms, 0-100 (default 0: "
     "off)"},
    {"--device-timeout-s", "device_timeout_s", &RolloutArgs::device_timeout_s,
     "Seconds a device has from being sent to confirming, 1-604800 (default 300)"},
    {"--confirm-s", "confirm_s", &RolloutArgs::confirm_s,
     "Seconds a device must run the new model before it confirms, 0-86400, shorter than the "
     "timeout (default 30)"},
};

// body[field] = the integer `value` of `flag`; prints why not, sets exit_code 2 and returns false.
bool put_int(json::object& body, const char* field, const char* flag, const std::string& value,
             int& exit_code) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
    std::fprintf(stderr, "vigil: %s expects an integer, got '%s'\n", flag, value.c_str());
    exit_code = 2;
    return false;
  }
  body[field] = n;
  return true;
}

// The "select" of POST /api/v1/rollouts from --select-model/--select-version, --device,
// --label and --all, as given (the server says when they do not make one selection).
std::optional<json::object> selection(const RolloutArgs& a, int& exit_code) {
  json::object select;
  if (!a.select_model.empty()) select["model"] = a.select_model;
  if (!a.select_version.empty() &&
      !put_int(select, "version", "--select-version", a.select_version, exit_code)) {
    return std::nullopt;
  }
  if (!a.devices.empty()) {
    json::array names;
    for (const auto& d : a.devices) names.emplace_back(d);
    select["devices"] = std::move(names);
  }
  auto labels = read_labels(a.labels, exit_code);
  if (!labels) return std::nullopt;
  if (!labels->empty()) {
    json::object l;
    for (const auto& [k, v] : *labels) l[k] = v;
    select["labels"] = std::move(l);
  }
  if (a.all) select["all"] = true;
  return select;
}

// The body of POST /api/v1/rollouts: the fields the flags give (action: update unless given).
std::optional<json::object> start_body(const RolloutArgs& a, int& exit_code) {
  auto select = selection(a, exit_code);
  if (!select) return std::nullopt;
  json::object body{{"select", std::move(*select)},
                    {"action", a.action.empty() ? "update" : a.action}};
  if (!a.to_model.empty() || !a.to_version.empty()) {
    json::object target;
    if (!a.to_model.empty()) target["model"] = a.to_model;
    if (!a.to_version.empty() &&
        !put_int(target, "version", "--to-version", a.to_version, exit_code)) {
      return std::nullopt;
    }
    body["target"] = std::move(target);
  }
  for (const LimitFlag& l : kLimits) {
    const std::string& value = a.*l.value;
    if (!value.empty() && !put_int(body, l.field, l.flag, value, exit_code)) return std::nullopt;
  }
  if (a.auto_rollback) body["auto_rollback"] = true;
  return body;
}

// How many devices are in `state` ("counts" of a rollout).
int64_t count(const json::value& rollout, const char* state) {
  const json::value& n = member(member(rollout, "counts"), state);
  return n.is_int64() ? n.as_int64() : 0;
}

// The devices the rollout covers: the sum of its counts.
int64_t device_count(const json::value& rollout) {
  int64_t n = 0;
  if (const json::value& counts = member(rollout, "counts"); counts.is_object()) {
    for (const auto& kv : counts.as_object()) n += count(rollout, kv.key_c_str());
  }
  return n;
}

// "confirmed 3, pending 1": the states that hold devices, in the server's order.
std::string counts_text(const json::value& rollout) {
  std::string out;
  if (const json::value& counts = member(rollout, "counts"); counts.is_object()) {
    for (const auto& kv : counts.as_object()) {
      if (int64_t n = count(rollout, kv.key_c_str()); n > 0) {
        out += (out.empty() ? "" : ", ") + std::string(kv.key()) + " " + std::to_string(n);
      }
    }
  }
  return out.empty() ? "none" : out;
}

// The target as "m:2" ({"model", "version"}), or "-" (rollback, blank).
std::string target_text(const json::value& rollout) {
  const json::value& target = member(rollout, "target");
  if (!target.is_object()) return "-";
  return text(target, "model") + ":" + text(target, "version");
}

// "update to m:2", "rollback", "blank".
std::string action_text(const json::value& rollout) {
  const std::string target = target_text(rollout);
  return text(rollout, "action") + (target == "-" ? "" : " to " + target);
}

// Which devices it selected: "model m:1", "devices d1,d2", "labels site=north", "all".
std::string selection_text(const json::value& rollout) {
  const json::value& s = member(rollout, "select");
  if (!member(s, "model").is_null()) return "model " + text(s, "model") + ":" + text(s, "version");
  if (const json::value& names = member(s, "devices"); names.is_array()) {
    std::string out;
    const auto& list = names.as_array();
    constexpr size_t kShown = 5;
    for (size_t i = 0; i < list.size() && i < kShown; ++i) {
      out += (i ? "," : "") + (list[i].is_string() ? std::string(list[i].as_string()) : "?");
    }
    if (list.size() > kShown) out += " +" + std::to_string(list.size() - kShown) + " more";
    return "devices " + out;
  }
  if (member(s, "labels").is_object()) return "labels " + labels_text(s);
  return member(s, "all").is_bool() ? "all" : "-";
}

// The "reason" of a rollout, a history entry or a device; "-" for none.
std::string reason_text(const json::value& object) {
  const std::string why = text(object, "reason");
  return why.empty() ? "-" : why;
}

// DONE: confirmed of all the rollout's devices.
std::vector<std::string> rollout_row(const json::value& r) {
  const std::string done = text(member(r, "counts"), "confirmed") + "/" +
                           std::to_string(static_cast<long long>(device_count(r)));
  return {text(r, "id"),         text(r, "state"),  text(r, "action"),
          target_text(r),        selection_text(r), done,
          text(r, "created_at"), reason_text(r)};
}

// --dry-run: what the rollout would cover now (POST /rollouts/preview), nothing started.
void preview(RolloutArgs& a, const json::object& body, int& exit_code) {
  auto p = call(a.remote, verb::post, "/api/v1/rollouts/preview", exit_code, body);
  if (!p) return;
  if (print_json(a.remote, *p)) return;
  const json::value& r = p->value;
  std::string waves;
  if (const auto* w = r.as_object().if_contains("waves"); w && w->is_array()) {
    for (const auto& n : w->as_array()) {
      waves += (waves.empty() ? "" : ", ") + json::serialize(n);
    }
  }
  std::string sample;
  if (const auto* s = r.as_object().if_contains("sample"); s && s->is_array()) {
    for (const auto& n : s->as_array()) {
      sample += (sample.empty() ? "" : ",") + std::string(n.is_string() ? n.as_string() : "");
    }
  }
  std::printf(
      "would select %s devices (%s online); %s would be skipped (already on the target, or "
      "nothing to roll back to)\nwaves (canary first): %s\nfirst: %s\n",
      text(r, "devices").c_str(), text(r, "online").c_str(), text(r, "skipped").c_str(),
      waves.empty() ? "none" : waves.c_str(), sample.empty() ? "none" : sample.c_str());
}

void start(RolloutArgs& a, int& exit_code) {
  auto body = start_body(a, exit_code);
  if (!body) return;
  if (a.dry_run) return preview(a, *body, exit_code);
  auto made = call(a.remote, verb::post, "/api/v1/rollouts", exit_code, *body);
  if (!made) return;
  if (print_json(a.remote, *made)) return;
  const json::value& r = made->value;
  std::printf("started rollout %s: %s of %lld devices (%s); state %s\n", text(r, "id").c_str(),
              action_text(r).c_str(), static_cast<long long>(device_count(r)),
              selection_text(r).c_str(), text(r, "state").c_str());
}

void list(RolloutArgs& a, int& exit_code) {
  const std::string query =
      query_string({{"state", a.state}, {"limit", a.limit}, {"cursor", a.cursor}});
  auto page = call(a.remote, verb::get, "/api/v1/rollouts" + query, exit_code);
  if (!page) return;
  print_page(a.remote, *page,
             Table({"ID", "STATE", "ACTION", "TARGET", "SELECTION", "DONE", "CREATED", "REASON"}),
             rollout_row);
}

// Who a user id in the history is: their email where the caller may read the account (admins
// any, users their own), else "user N"; "-" for the server itself (a halt, the completion).
class Users {
 public:
  explicit Users(const RemoteOptions& remote) : remote_(remote) {}
  std::string who(const json::value& id) {
    if (!id.is_int64()) return "-";
    auto [it, added] = names_.try_emplace(id.as_int64());
    if (added) {
      it->second = "user " + std::to_string(it->first);
      auto user = call_quietly(remote_, verb::get, "/api/v1/users/" + std::to_string(it->first));
      if (user && member(user->value, "email").is_string()) {
        it->second = member(user->value, "email").as_string();
      }
    }
    return it->second;
  }

 private:
  const RemoteOptions& remote_;
  std::map<int64_t, std::string> names_;
};

void show(RolloutArgs& a, int& exit_code) {
  auto got = call(a.remote, verb::get, "/api/v1/rollouts/" + path_segment(a.id), exit_code);
  if (!got) return;
  if (print_json(a.remote, *got)) return;
  const json::value& r = got->value;
  Users users(a.remote);
  std::string limits;
  for (const LimitFlag& l : kLimits) {
    limits += std::string(limits.empty() ? "" : ", ") + l.field + " " + text(r, l.field);
  }
  limits += ", auto_rollback " + text(r, "auto_rollback");
  std::printf("id:          %s\n", text(r, "id").c_str());
  std::printf("state:       %s\n", text(r, "state").c_str());
  if (const std::string why = reason_text(r); why != "-") {
    std::printf("reason:      %s\n", why.c_str());
  }
  std::printf("action:      %s\n", action_text(r).c_str());
  std::printf("selection:   %s\n", selection_text(r).c_str());
  std::printf("devices:     %lld: %s\n", static_cast<long long>(device_count(r)),
              counts_text(r).c_str());
  std::printf("limits:      %s\n", limits.c_str());
  std::printf("created:     %s by %s\n", text(r, "created_at").c_str(),
              users.who(member(r, "created_by")).c_str());
  std::printf("updated:     %s\n", text(r, "updated_at").c_str());
  std::printf("history:\n");
  Table history({"  AT", "BY", "FROM", "TO", "REASON"});
  if (const json::value& h = member(r, "history"); h.is_array()) {
    for (const auto& e : h.as_array()) {
      history.add({"  " + text(e, "at"), users.who(member(e, "by")), text(e, "from"), text(e, "to"),
                   reason_text(e)});
    }
  }
  history.print();
}

std::vector<std::string> device_row(const json::value& d) {
  return {text(d, "position"),
          text(d, "device"),
          text(d, "wave"),
          text(d, "state"),
          model_text(member(d, "from")),
          model_text(member(d, "target")),
          text(d, "sent_at"),
          text(d, "switched_at"),
          reason_text(d)};
}

void devices(RolloutArgs& a, int& exit_code) {
  const std::string query =
      query_string({{"state", a.state}, {"limit", a.limit}, {"cursor", a.cursor}});
  auto page = call(a.remote, verb::get,
                   "/api/v1/rollouts/" + path_segment(a.id) + "/devices" + query, exit_code);
  if (!page) return;
  print_page(
      a.remote, *page,
      Table({"#", "DEVICE", "WAVE", "STATE", "FROM", "TARGET", "SENT", "SWITCHED", "REASON"}),
      device_row);
}

// POST /api/v1/rollouts/{id}/pause, /resume or /abort, with {"reason"} when one is given.
void change(RolloutArgs& a, int& exit_code, const char* action, const char* done) {
  json::value body;
  if (!a.reason.empty()) body = json::object{{"reason", a.reason}};
  auto r = call(a.remote, verb::post, "/api/v1/rollouts/" + path_segment(a.id) + "/" + action,
                exit_code, body);
  if (!r) return;
  if (print_json(a.remote, *r)) return;
  std::printf("%s rollout %s (%s; %lld devices: %s); state %s\n", done,
              text(r->value, "id").c_str(), action_text(r->value).c_str(),
              static_cast<long long>(device_count(r->value)), counts_text(r->value).c_str(),
              text(r->value, "state").c_str());
}

void add_start(CLI::App& rollout, RolloutArgs& a, int& exit_code) {
  auto* cmd = rollout.add_subcommand(
      "start", "Start a rollout (admin): the devices selected now, canary first, then batches");
  cmd->footer(
      "Select with --select-model and --select-version, --device, --label or --all. Only the "
      "flags given are sent: the server's defaults apply to the rest, and it checks the values "
      "(a refusal names the field the flag is named after).");
  cmd->add_option("--select-model", a.select_model,
                  "Select the devices whose model is this one (with --select-version)");
  cmd->add_option("--select-version", a.select_version, "With --select-model: this version")
      ->type_name("INT");
  cmd->add_option("--device", a.devices, "Select this device by name (repeatable)")
      ->type_name("NAME");
  cmd->add_option("--label", a.labels,
                  "Select the devices with label KEY=VALUE (repeatable: all must match)")
      ->type_name("KEY=VALUE");
  cmd->add_flag("--all", a.all, "Select every device");
  cmd->add_option("--action", a.action,
                  "update (default: to --to-model/--to-version), rollback (each to its previous "
                  "model) or blank (the built-in model blank)");
  cmd->add_option("--to-model", a.to_model, "update: the stored model to move to");
  cmd->add_option("--to-version", a.to_version, "update: its version")->type_name("INT");
  for (const LimitFlag& l : kLimits) cmd->add_option(l.flag, a.*l.value, l.help)->type_name("INT");
  cmd->add_flag("--auto-rollback", a.auto_rollback,
                "When it halts, send the switched devices back (default: no)");
  cmd->add_flag("--dry-run", a.dry_run,
                "Start nothing: say how many devices it would select, skip and send in each "
                "wave, and name the first 20");
  add_remote_options(*cmd, a.remote);
  cmd->callback([&a, &exit_code] { start(a, exit_code); });
}

}  // namespace

void add_rollout_command(CLI::App& app, int& exit_code) {
  static RolloutArgs a;
  auto* rollout = app.add_subcommand(
      "rollout", "Roll models out to devices on a running server, and watch it (--url, --token)");
  rollout->require_subcommand(1);

  add_start(*rollout, a, exit_code);

  auto* list_cmd = rollout->add_subcommand("list", "List rollouts, newest first");
  list_cmd->add_option("--state", a.state, "running, paused, halted, completed or aborted");
  list_cmd->add_option("--limit", a.limit, "Rollouts per page, 1-1000 (default 50)");
  list_cmd->add_option("--cursor", a.cursor, "The next page, as the previous one said");
  add_remote_options(*list_cmd, a.remote);
  list_cmd->callback([&exit_code] { list(a, exit_code); });

  auto* show_cmd = rollout->add_subcommand(
      "show", "One rollout: state, devices per state, limits, and its history (who, why)");
  show_cmd->add_option("ID", a.id, "The rollout's id")->required();
  add_remote_options(*show_cmd, a.remote);
  show_cmd->callback([&exit_code] { show(a, exit_code); });

  auto* devices_cmd =
      rollout->add_subcommand("devices", "A rollout's devices in order, with their states");
  devices_cmd->add_option("ID", a.id, "The rollout's id")->required();
  devices_cmd->add_option("--state", a.state,
                          "pending, sent, downloading, applied, confirmed, failed, timed_out or "
                          "skipped");
  devices_cmd->add_option("--limit", a.limit, "Devices per page, 1-1000 (default 50)");
  devices_cmd->add_option("--cursor", a.cursor, "The next page, as the previous one said");
  add_remote_options(*devices_cmd, a.remote);
  devices_cmd->callback([&exit_code] { devices(a, exit_code); });

  struct Change {
    const char* name;
    const char* help;
    const char* done;
  };
  for (const Change& c :
       {Change{"pause", "Pause a running rollout: nothing more is sent (admin)", "paused"},
        Change{"resume", "Resume a paused rollout (admin)", "resumed"},
        Change{"abort", "Abort a rollout that is not finished (admin)", "aborted"}}) {
    auto* cmd = rollout->add_subcommand(c.name, c.help);
    cmd->add_option("ID", a.id, "The rollout's id")->required();
    cmd->add_option("--reason", a.reason, "Why (kept in the rollout's history)");
    add_remote_options(*cmd, a.remote);
    cmd->callback([&exit_code, c] { change(a, exit_code, c.name, c.done); });
  }
}

}  // namespace vigil::cli
