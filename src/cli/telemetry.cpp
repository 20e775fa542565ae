// vigil sensor add | list | show, and vigil telemetry send: sensors and their points, over HTTP
// against a running server (docs/http/telemetry.md), not the store.
#include <boost/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/remote.h"

namespace vigil::cli {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;

struct SensorArgs {
  RemoteOptions remote;
  std::string name;
  std::string device;
  std::string unit;
  std::optional<double> x, y, z;
  std::optional<int> window, exclusion, retention_days;
  std::optional<double> warn, critical;
  bool normalize = false;
  bool pinned = false;
  std::string pinned_filter;
  std::string limit;
  std::string cursor;
};

std::string detector_text(const json::value& s) {
  const json::value& d = member(s, "detector");
  return "window " + text(d, "window") + ", exclusion " + text(d, "exclusion") + ", warn " +
         text(d, "warn_percent") + "%, critical " + text(d, "critical_percent") + "%" +
         (text(d, "normalize") == "true" ? ", normalised" : "");
}

std::vector<std::string> sensor_row(const json::value& s) {
  return {text(s, "name"), text(s, "device"), text(s, "unit"),
          text(s, "pinned") == "true" ? "yes" : "no", detector_text(s)};
}

void add(SensorArgs& a, int& exit_code) {
  json::object body{{"name", a.name}};
  if (!a.device.empty()) body["device"] = a.device;
  if (!a.unit.empty()) body["unit"] = a.unit;
  if (a.x) body["x"] = *a.x;
  if (a.y) body["y"] = *a.y;
  if (a.z) body["z"] = *a.z;
  if (a.pinned) body["pinned"] = true;
  if (a.retention_days) body["retention_days"] = *a.retention_days;
  json::object detector;
  if (a.window) detector["window"] = *a.window;
  if (a.exclusion) detector["exclusion"] = *a.exclusion;
  if (a.warn) detector["warn_percent"] = *a.warn;
  if (a.critical) detector["critical_percent"] = *a.critical;
  if (a.normalize) detector["normalize"] = true;
  if (!detector.empty()) body["detector"] = std::move(detector);
  auto made = call(a.remote, verb::post, "/api/v1/sensors", exit_code, body);
  if (!made) return;
  if (print_json(a.remote, *made)) return;
  std::printf("added sensor %s (%s)\n", text(made->value, "name").c_str(),
              detector_text(made->value).c_str());
}

void list(SensorArgs& a, int& exit_code) {
  auto page = call(a.remote, verb::get,
                   "/api/v1/sensors" + query_string({{"pinned", a.pinned_filter},
                                                     {"device", a.device},
                                                     {"limit", a.limit},
                                                     {"cursor", a.cursor}}),
                   exit_code);
  if (!page) return;
  print_page(a.remote, *page, Table({"NAME", "DEVICE", "UNIT", "PINNED", "DETECTOR"}), sensor_row);
}

void show(SensorArgs& a, int& exit_code) {
  auto s = call(a.remote, verb::get, "/api/v1/sensors/" + path_segment(a.name), exit_code);
  if (!s) return;
  if (print_json(a.remote, *s)) return;
  const json::value& v = s->value;
  std::printf("name:       %s\n", text(v, "name").c_str());
  std::printf("device:     %s\n", text(v, "device").c_str());
  std::printf("unit:       %s\n", text(v, "unit").c_str());
  std::printf("position:   %s, %s, %s\n", text(v, "x").c_str(), text(v, "y").c_str(),
              text(v, "z").c_str());
  std::printf("detector:   %s\n", detector_text(v).c_str());
  std::printf("pinned:     %s\n", text(v, "pinned") == "true" ? "yes" : "no");
  const std::string days = text(v, "retention_days");
  std::printf("retention:  %s\n", days == "0" ? "for ever" : (days + " days").c_str());
  std::printf("created:    %s\n", text(v, "created_at").c_str());
}

struct SendArgs {
  RemoteOptions remote;
  std::string file;
  std::string sensor;
  int batch = 10'000;
};

// Sends what gathered in `csv` (text/csv); adds the accepted count. False after a failure.
bool flush(const SendArgs& a, std::string& csv, size_t& lines, int64_t& accepted, int& exit_code) {
  if (lines == 0) return true;
  auto r = call_text(a.remote, verb::post, "/api/v1/telemetry", exit_code, csv, "text/csv");
  csv.clear();
  lines = 0;
  if (!r) return false;
  if (const json::value& n = member(r->value, "accepted"); n.is_int64()) accepted += n.as_int64();
  return true;
}

// FILE (or - for stdin): a .json body as the API takes it, sent as it is; else CSV lines
// `sensor,at,value`, or with --sensor `at,value`, sent --batch lines per request. A header line
// (its last field not a number) is skipped.
void send(SendArgs& a, int& exit_code) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (a.file != "-") {
    file.open(a.file, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "vigil: cannot read %s\n", a.file.c_str());
      exit_code = 2;
      return;
    }
    in = &file;
  }
  if (a.file.size() > 5 && a.file.ends_with(".json")) {
    std::stringstream body;
    body << in->rdbuf();
    auto r = call_text(a.remote, verb::post, "/api/v1/telemetry", exit_code, body.str(),
                       "application/json");
    if (!r) return;
    if (print_json(a.remote, *r)) return;
    std::printf("accepted %s points\n", text(r->value, "accepted").c_str());
    return;
  }
  std::string csv, line;
  size_t lines = 0, line_no = 0, skipped = 0;
  int64_t accepted = 0;
  while (std::getline(*in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::string last = line.substr(line.rfind(',') + 1);
    char* end = nullptr;
    const double value = std::strtod(last.c_str(), &end);
    if (line_no == 1 && (last.empty() || *end != '\0')) continue;  // a header
    if (!last.empty() && *end == '\0' && !std::isfinite(value)) {
      ++skipped;  // inf, nan: a reading the device could not make (the API takes numbers)
      continue;
    }
    if (!a.sensor.empty()) csv += a.sensor + ",";
    csv += line;
    csv += '\n';
    if (++lines >= static_cast<size_t>(a.batch) && !flush(a, csv, lines, accepted, exit_code)) {
      std::fprintf(stderr,
                   "vigil: stopped at the batch ending on line %zu; %lld points were "
                   "stored before\n",
                   line_no, static_cast<long long>(accepted));
      return;
    }
  }
  if (!flush(a, csv, lines, accepted, exit_code)) {
    std::fprintf(stderr, "vigil: %lld points were stored before the failure\n",
                 static_cast<long long>(accepted));
    return;
  }
  std::printf("accepted %lld points\n", static_cast<long long>(accepted));
  if (skipped > 0) std::fprintf(stderr, "skipped %zu lines whose value is inf or nan\n", skipped);
}

}  // namespace

void add_sensor_command(CLI::App& app, int& exit_code) {
  static SensorArgs a;
  auto* sensor =
      app.add_subcommand("sensor", "Manage sensors on a running server (--url, --token)");
  sensor->require_subcommand(1);

  auto* add_cmd = sensor->add_subcommand("add", "Make a sensor (admin)");
  add_cmd->add_option("NAME", a.name, "Sensor name (1-64 of A-Z a-z 0-9 . _ -)")->required();
  add_cmd->add_option("--device", a.device, "The device it sits on");
  add_cmd->add_option("--unit", a.unit, "Unit of its values (ppmv, °C, ...)");
  add_cmd->add_option("--x", a.x, "Position x");
  add_cmd->add_option("--y", a.y, "Position y");
  add_cmd->add_option("--z", a.z, "Position z");
  add_cmd->add_option("--window", a.window, "Detector window in points (default 144)");
  add_cmd->add_option("--exclusion", a.exclusion, "Detector exclusion zone (default window/2)");
  add_cmd->add_option("--warn", a.warn, "Warning from this percent of the baseline (100)");
  add_cmd->add_option("--critical", a.critical, "Critical from this percent (200)");
  add_cmd->add_flag("--normalize", a.normalize, "Z-normalise the detector's windows");
  add_cmd->add_flag("--pinned", a.pinned, "Pin it (the console lists it first)");
  add_cmd->add_option("--retention-days", a.retention_days, "Keep points this long (0: always)");
  add_remote_options(*add_cmd, a.remote);
  add_cmd->callback([&exit_code] { add(a, exit_code); });

  auto* list_cmd = sensor->add_subcommand("list", "List sensors: name, device, unit, detector");
  list_cmd->add_option("--pinned", a.pinned_filter, "true or false");
  list_cmd->add_option("--device", a.device, "Only the sensors on this device");
  list_cmd->add_option("--limit", a.limit, "Sensors per page, 1-1000 (default 50)");
  list_cmd->add_option("--cursor", a.cursor, "The next page, as the previous one said");
  add_remote_options(*list_cmd, a.remote);
  list_cmd->callback([&exit_code] { list(a, exit_code); });

  auto* show_cmd = sensor->add_subcommand("show", "One sensor and its detector settings");
  show_cmd->add_option("NAME", a.name, "Sensor name")->required();
  add_remote_options(*show_cmd, a.remote);
  show_cmd->callback([&exit_code] { show(a, exit_code); });
}

void add_telemetry_command(CLI::App& app, int& exit_code) {
  static SendArgs a;
  auto* telemetry =
      app.add_subcommand("telemetry", "Send points to a running server (--url, --token)");
  telemetry->require_subcommand(1);
  auto* send_cmd = telemetry->add_subcommand(
      "send",
      "Post a file of points: FILE.json as the API takes it, else CSV sensor,at,value (with "
      "--sensor: at,value), a header line optional; at is RFC 3339 or epoch milliseconds");
  send_cmd->add_option("FILE", a.file, "The file, or - for standard input")->required();
  send_cmd->add_option("--sensor", a.sensor, "Every line is this sensor's: at,value");
  send_cmd->add_option("--batch", a.batch, "Lines per request (default 10000, at most 100000)")
      ->check(CLI::Range(1, 100'000));
  add_remote_options(*send_cmd, a.remote);
  send_cmd->callback([&exit_code] { send(a, exit_code); });
}

}  // namespace vigil::cli
