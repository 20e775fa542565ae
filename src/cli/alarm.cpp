// vigil alarm list | ack | clear: the fleet's alarms, over HTTP against a running server
// (docs/http/fleet.md "Alarms").
#include <boost/json.hpp>

#include <cstdio>

#include "cli/remote.h"

namespace vigil::cli {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;

struct AlarmArgs {
  RemoteOptions remote;
  std::string id;
  std::string device, model, version, state, severity, source, since, until, limit, cursor;
};

std::vector<std::string> alarm_row(const json::value& a) {
  return {text(a, "id"),     text(a, "severity"), text(a, "state"),
          text(a, "device"), text(a, "sensor"),   model_text(member(a, "model")),
          text(a, "count"),  text(a, "last_at")};
}

void list(AlarmArgs& a, int& exit_code) {
  const std::string query = query_string({{"device", a.device},
                                          {"model", a.model},
                                          {"version", a.version},
                                          {"state", a.state},
                                          {"severity", a.severity},
                                          {"source", a.source},
                                          {"since", a.since},
                                          {"until", a.until},
                                          {"limit", a.limit},
                                          {"cursor", a.cursor}});
  auto page = call(a.remote, verb::get, "/api/v1/alarms" + query, exit_code);
  if (!page) return;
  print_page(
      a.remote, *page,
      Table({"ID", "SEVERITY", "STATE", "DEVICE", "SENSOR", "MODEL", "COUNT", "LAST REPORTED"}),
      alarm_row);
}

// POST /api/v1/alarms/{id}/ack or /clear.
void change(AlarmArgs& a, int& exit_code, const char* action, const char* done) {
  auto alarm =
      call(a.remote, verb::post, "/api/v1/alarms/" + path_segment(a.id) + "/" + action, exit_code);
  if (!alarm) return;
  if (print_json(a.remote, *alarm)) return;
  const json::value& v = alarm->value;
  std::printf("%s alarm %s (%s on %s, reported %s times; state %s)\n", done, text(v, "id").c_str(),
              text(v, "severity").c_str(), text(v, "device").c_str(), text(v, "count").c_str(),
              text(v, "state").c_str());
}

}  // namespace

void add_alarm_command(CLI::App& app, int& exit_code) {
  static AlarmArgs a;
  auto* alarm = app.add_subcommand(
      "alarm", "List, acknowledge and clear alarms on a running server (--url, --token)");
  alarm->require_subcommand(1);

  auto* list_cmd = alarm->add_subcommand("list", "List alarms, newest first");
  list_cmd->add_option("--device", a.device, "Only this device's alarms");
  list_cmd->add_option("--model", a.model, "Only alarms about this model");
  list_cmd->add_option("--version", a.version, "With --model: only this version");
  list_cmd->add_option("--state", a.state, "active, acknowledged or cleared");
  list_cmd->add_option("--severity", a.severity, "warning, minor, major or critical");
  list_cmd->add_option("--source", a.source, "watchdog or detector");
  list_cmd->add_option("--since", a.since,
                       "Only alarms reported at or after this time (RFC 3339 or epoch ms)");
  list_cmd->add_option("--until", a.until, "Only alarms raised before this time");
  list_cmd->add_option("--limit", a.limit, "Alarms per page, 1-1000 (default 50)");
  list_cmd->add_option("--cursor", a.cursor, "The next page, as the previous one said");
  add_remote_options(*list_cmd, a.remote);
  list_cmd->callback([&exit_code] { list(a, exit_code); });

  auto* ack = alarm->add_subcommand("ack", "Acknowledge an alarm: it stays open (admin)");
  ack->add_option("ID", a.id, "The alarm's id")->required();
  add_remote_options(*ack, a.remote);
  ack->callback([&exit_code] { change(a, exit_code, "ack", "acknowledged"); });

  auto* clear = alarm->add_subcommand(
      "clear", "Clear an alarm: closed, the next report of it opens a new one (admin)");
  clear->add_option("ID", a.id, "The alarm's id")->required();
  add_remote_options(*clear, a.remote);
  clear->callback([&exit_code] { change(a, exit_code, "clear", "cleared"); });
}

}  // namespace vigil::cli
