// vigil device add | list | show | enroll: the fleet's devices, over HTTP against a running
// server (docs/http/fleet.md), not the store.
#include <boost/json.hpp>

#include <cstdio>

#include "cli/remote.h"

namespace vigil::cli {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;

struct DeviceArgs {
  RemoteOptions remote;
  std::string name;
  std::string type;
  std::vector<std::string> labels;  // KEY=VALUE
  std::string model;
  std::string version;
  std::string online;
  std::string limit;
  std::string cursor;
  int64_t expires_in_s = 0;
};

std::vector<std::string> device_row(const json::value& d) {
  return {text(d, "name"),
          text(d, "type"),
          model_text(member(d, "model")),
          model_text(member(d, "running")),
          text(d, "online") == "true" ? "yes" : "no",
          text(d, "last_seen"),
          labels_text(d)};
}

void add(DeviceArgs& a, int& exit_code) {
  auto labels = read_labels(a.labels, exit_code);
  if (!labels) return;
  json::object body{{"name", a.name}};
  if (!a.type.empty()) body["type"] = a.type;
  if (!labels->empty()) {
    json::object l;
    for (auto& [k, v] : *labels) l[k] = v;
    body["labels"] = std::move(l);
  }
  auto made = call(a.remote, verb::post, "/api/v1/devices", exit_code, body);
  if (!made) return;
  if (print_json(a.remote, *made)) return;
  std::printf("added device %s (type %s, labels %s)\n", text(made->value, "name").c_str(),
              text(made->value, "type").c_str(), labels_text(made->value).c_str());
}

void list(DeviceArgs& a, int& exit_code) {
  std::vector<std::pair<std::string, std::string>> q{{"type", a.type},       {"model", a.model},
                                                     {"version", a.version}, {"online", a.online},
                                                     {"limit", a.limit},     {"cursor", a.cursor}};
  auto labels = read_labels(a.labels, exit_code);
  if (!labels) return;
  for (const auto& [k, v] : *labels) q.emplace_back("label", k + ":" + v);
  auto page = call(a.remote, verb::get, "/api/v1/devices" + query_string(q), exit_code);
  if (!page) return;
  print_page(a.remote, *page,
             Table({"NAME", "TYPE", "MODEL", "RUNNING", "ONLINE", "LAST SEEN", "LABELS"}),
             device_row);
}

void show(DeviceArgs& a, int& exit_code) {
  const std::string name = path_segment(a.name);
  auto dev = call(a.remote, verb::get, "/api/v1/devices/" + name, exit_code);
  if (!dev) return;
  if (print_json(a.remote, *dev)) return;
  const json::value& d = dev->value;
  std::printf("name:            %s\n", text(d, "name").c_str());
  std::printf("type:            %s\n", text(d, "type").c_str());
  std::printf("labels:          %s\n", labels_text(d).c_str());
  std::printf("model:           %s\n", model_text(member(d, "model")).c_str());
  std::printf("running:         %s\n", model_text(member(d, "running")).c_str());
  std::printf("previous model:  %s\n", model_text(member(d, "previous_model")).c_str());
  std::printf("online:          %s\n", text(d, "online") == "true" ? "yes" : "no");
  std::printf("last seen:       %s\n", text(d, "last_seen").c_str());
  std::printf("created:         %s\n", text(d, "created_at").c_str());
  auto watchdogs = call(a.remote, verb::get,
                        "/api/v1/watchdogs" + query_string({{"device", a.name}}), exit_code);
  if (!watchdogs) return;
  std::string names;
  if (const json::value& items = member(watchdogs->value, "items"); items.is_array()) {
    for (const auto& w : items.as_array()) names += (names.empty() ? "" : ", ") + text(w, "name");
  }
  std::printf("watchdogs:       %s\n", names.empty() ? "-" : names.c_str());
}

void enroll(DeviceArgs& a, int& exit_code) {
  json::object body;
  if (a.expires_in_s > 0) body["expires_in_s"] = a.expires_in_s;
  auto code = call(a.remote, verb::post, "/api/v1/devices/" + path_segment(a.name) + "/enrollments",
                   exit_code, body);
  if (!code) return;
  if (print_json(a.remote, *code)) return;
  std::printf("code:        %s\n", text(code->value, "code").c_str());
  std::printf("expires at:  %s\n", text(code->value, "expires_at").c_str());
  std::fprintf(stderr,
               "the code is shown once; an agent redeems it once: POST /api/v1/enroll "
               "{\"code\", \"watchdog\"}\n");
}

}  // namespace

void add_device_command(CLI::App& app, int& exit_code) {
  static DeviceArgs a;
  auto* device = app.add_subcommand(
      "device", "Manage the fleet's devices on a running server (--url, --token)");
  device->require_subcommand(1);

  auto* add_cmd = device->add_subcommand("add", "Register a device (admin)");
  add_cmd->add_option("NAME", a.name, "Device name (1-64 of A-Z a-z 0-9 . _ -)")->required();
  add_cmd->add_option("--type", a.type, "Type: unknown (default), misc, camera, ...");
  add_cmd->add_option("--label", a.labels, "A label KEY=VALUE (repeatable)");
  add_remote_options(*add_cmd, a.remote);
  add_cmd->callback([&exit_code] { add(a, exit_code); });

  auto* list_cmd = device->add_subcommand("list", "List devices: name, type, models, online");
  list_cmd->add_option("--type", a.type, "Only devices of this type");
  list_cmd->add_option("--label", a.labels, "Only devices with label KEY=VALUE (repeatable)");
  list_cmd->add_option("--model", a.model, "Only devices whose desired model has this name");
  list_cmd->add_option("--version", a.version, "With --model: only this version");
  list_cmd->add_option("--online", a.online, "true or false");
  list_cmd->add_option("--limit", a.limit, "Devices per page, 1-1000 (default 50)");
  list_cmd->add_option("--cursor", a.cursor, "The next page, as the previous one said");
  add_remote_options(*list_cmd, a.remote);
  list_cmd->callback([&exit_code] { list(a, exit_code); });

  auto* show_cmd =
      device->add_subcommand("show", "One device: type, labels, models, online, its watchdogs");
  show_cmd->add_option("NAME", a.name, "Device name")->required();
  add_remote_options(*show_cmd, a.remote);
  show_cmd->callback([&exit_code] { show(a, exit_code); });

  auto* enroll_cmd = device->add_subcommand(
      "enroll", "Make a single-use enrollment code for the device's watchdog (admin)");
  enroll_cmd->add_option("NAME", a.name, "Device name")->required();
  enroll_cmd
      ->add_option("--expires-in", a.expires_in_s,
                   "Seconds the code stays valid (default 86400, at most 30 days)")
      ->check(CLI::PositiveNumber);
  add_remote_options(*enroll_cmd, a.remote);
  enroll_cmd->callback([&exit_code] { enroll(a, exit_code); });
}

}  // namespace vigil::cli
