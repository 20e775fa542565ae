// vigil baseline list | add | show | delete (the baseline library) and vigil baseline sensor |
// set | select | augment (a sensor's baseline), over HTTP against a running server
// (docs/http/telemetry.md "The CLI").
#include <boost/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "cli/remote.h"

namespace vigil::cli {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;

struct BaselineArgs {
  RemoteOptions remote;
  std::string name;    // a library baseline
  std::string sensor;  // a sensor (add --sensor, and the sensor's commands)
  std::string csv, from, to, limit, cursor;
  bool no_clean = false;
  bool values = false;
};

// A number with 6 significant digits ("-" when it is not one).
std::string number(const json::value& v) {
  if (!v.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v.to_number<double>());
  return buf;
}
std::string number(const json::value& object, const char* name) {
  return number(member(object, name));
}

std::string trimmed(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

std::string library_path(const std::string& name) {
  return "/api/v1/baselines/" + path_segment(name);
}
std::string sensor_path(const std::string& sensor) {
  return "/api/v1/sensors/" + path_segment(sensor) + "/baseline";
}

std::vector<std::string> baseline_row(const json::value& b) {
  return {text(b, "name"), text(b, "source"), text(b, "points"), number(b, "mean"),
          number(b, "std")};
}

// One of a sensor's baseline rows: "select of leak-a at T by 1: 576 points, mean 1, std 0.5".
std::string change_text(const json::value& row) {
  return text(row, "action") + " of " + text(row, "baseline") + " at " + text(row, "at") + " by " +
         text(row, "by") + ": " + text(row, "points") + " points, mean " + number(row, "mean") +
         ", std " + number(row, "std");
}

// The answer to show a human; nullopt when the call failed (printed, exit_code set) or --json
// printed it.
std::optional<json::value> ask(const BaselineArgs& a, verb method, const std::string& target,
                               int& exit_code, const json::value& body = nullptr) {
  auto answer = call(a.remote, method, target, exit_code, body);
  if (!answer || print_json(a.remote, *answer)) return std::nullopt;
  return std::move(answer->value);
}

// --- the library

void list(BaselineArgs& a, int& exit_code) {
  auto page = call(a.remote, verb::get,
                   "/api/v1/baselines" + query_string({{"limit", a.limit}, {"cursor", a.cursor}}),
                   exit_code);
  if (!page) return;
  print_page(a.remote, *page, Table({"NAME", "SOURCE", "POINTS", "MEAN", "STD"}), baseline_row);
}

// A usage error of ours: printed, exit 2.
void refuse(int& exit_code, const std::string& why) {
  std::fprintf(stderr, "vigil: %s\n", why.c_str());
  exit_code = 2;
}

// The values of a CSV file: one a line, or `at,value` lines (the last field is taken); a blank,
// nan or inf value is a gap (null); a first line whose value is not a number is a header; blank
// lines at the end are dropped. Nullopt (printed, exit 2) for a line that is none of these.
std::optional<json::array> read_csv_values(const std::string& path, int& exit_code) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    refuse(exit_code, "cannot read " + path);
    return std::nullopt;
  }
  json::array values;
  size_t trailing_blanks = 0;
  std::string line;
  for (size_t line_no = 1; std::getline(in, line); ++line_no) {
    const std::string field = trimmed(line.substr(line.rfind(',') + 1));  // npos + 1: all
    trailing_blanks = trimmed(line).empty() ? trailing_blanks + 1 : 0;
    if (field.empty()) {
      values.emplace_back(nullptr);
      continue;
    }
    char* end = nullptr;
    const double v = std::strtod(field.c_str(), &end);
    if (*end == '\0') {
      values.push_back(std::isfinite(v) ? json::value(v) : json::value(nullptr));
    } else if (line_no > 1) {
      refuse(exit_code, path + ":" + std::to_string(line_no) + ": '" + field + "' is not a number");
      return std::nullopt;
    }
  }
  values.resize(values.size() - trailing_blanks);
  return values;
}

void add(BaselineArgs& a, int& exit_code) {
  json::object body{{"name", a.name}};
  if (a.csv.empty() == a.sensor.empty()) {
    return refuse(exit_code, "give --csv FILE, or --sensor S --from T --to T");
  }
  if (!a.csv.empty()) {
    if (!a.from.empty() || !a.to.empty() || a.no_clean) {
      return refuse(exit_code, "--from, --to and --no-clean go with --sensor, not --csv");
    }
    auto values = read_csv_values(a.csv, exit_code);
    if (!values) return;
    body["values"] = std::move(*values);
  } else {
    if (a.from.empty() || a.to.empty()) return refuse(exit_code, "--sensor needs --from and --to");
    body["sensor"] = a.sensor;
    body["from"] = a.from;
    body["to"] = a.to;
    if (a.no_clean) body["clean"] = false;
  }
  auto made = ask(a, verb::post, "/api/v1/baselines", exit_code, body);
  if (!made) return;
  const json::value& b = *made;
  std::printf("added baseline %s: %s points, mean %s, std %s", text(b, "name").c_str(),
              text(b, "points").c_str(), number(b, "mean").c_str(), number(b, "std").c_str());
  if (text(b, "source") == "sensor") {
    std::printf(" (%s from %s to %s, %s discord windows cleaned out)", text(b, "sensor").c_str(),
                text(b, "from").c_str(), text(b, "to").c_str(), text(b, "removed").c_str());
  }
  std::printf("\n");
}

void show(BaselineArgs& a, int& exit_code) {
  auto b = ask(a, verb::get, library_path(a.name), exit_code);
  if (!b) return;
  const json::value& v = *b;
  const json::value& values = member(v, "values");
  if (a.values) {  // as --csv reads them back
    if (values.is_array()) {
      for (const auto& x : values.as_array()) {
        std::printf("%s\n", x.is_number() ? number(x).c_str() : "nan");
      }
    }
    return;
  }
  size_t gaps = 0;
  if (values.is_array()) {
    for (const auto& x : values.as_array()) gaps += x.is_null() ? 1 : 0;
  }
  std::printf("name:     %s\n", text(v, "name").c_str());
  std::printf("source:   %s\n", text(v, "source").c_str());
  if (text(v, "source") == "sensor") {
    std::printf("cut from: %s, %s to %s\n", text(v, "sensor").c_str(), text(v, "from").c_str(),
                text(v, "to").c_str());
  }
  std::printf("points:   %s (%zu gaps; %s discord windows cleaned out)\n",
              text(v, "points").c_str(), gaps, text(v, "removed").c_str());
  std::printf("mean:     %s\n", number(v, "mean").c_str());
  std::printf("std:      %s\n", number(v, "std").c_str());
  std::printf("created:  %s by %s\n", text(v, "created_at").c_str(), text(v, "created_by").c_str());
}

void drop(BaselineArgs& a, int& exit_code) {
  if (!ask(a, verb::delete_, library_path(a.name), exit_code)) return;
  std::printf("deleted baseline %s (sensors judged by it keep their copy)\n", a.name.c_str());
}

// --- a sensor's baseline

void of_sensor(BaselineArgs& a, int& exit_code) {
  auto view = ask(a, verb::get, sensor_path(a.sensor), exit_code);
  if (!view) return;
  const json::value& v = *view;
  const json::value& current = member(v, "current");
  std::printf("sensor:   %s\n", text(v, "sensor").c_str());
  std::printf("current:  %s\n", current.is_object()
                                    ? change_text(current).c_str()
                                    : "none (the detector learns one from its first points)");
  Table table({"AT", "ACTION", "BASELINE", "BY", "POINTS", "MEAN", "STD"});
  const json::value& history = member(v, "history");
  if (history.is_array()) {
    for (const auto& h : history.as_array()) {
      table.add({text(h, "at"), text(h, "action"), text(h, "baseline"), text(h, "by"),
                 text(h, "points"), number(h, "mean"), number(h, "std")});
    }
  }
  std::printf("history (newest first):\n");
  table.print();
}

void set(BaselineArgs& a, int& exit_code) {
  auto row =
      ask(a, verb::put, sensor_path(a.sensor), exit_code, json::object{{"baseline", a.name}});
  if (!row) return;
  std::printf("sensor %s: %s\n", a.sensor.c_str(), change_text(*row).c_str());
}

void select(BaselineArgs& a, int& exit_code) {
  auto s = ask(a, verb::post, sensor_path(a.sensor) + "/select", exit_code);
  if (!s) return;
  const json::value& v = *s;
  Table table({"BASELINE", "FITS", "MAX %", "DISTANCE", "WHY NOT"});
  const json::value& candidates = member(v, "candidates");
  if (candidates.is_array()) {
    for (const auto& c : candidates.as_array()) {
      table.add({text(c, "baseline"), text(c, "fits") == "true" ? "yes" : "no",
                 number(c, "max_percent"), number(c, "distance"), text(c, "why")});
    }
  }
  std::printf("%s points of %s's history replayed (%s discord windows cleaned out):\n",
              text(v, "history_points").c_str(), a.sensor.c_str(), text(v, "removed").c_str());
  table.print();
  if (text(v, "selected") == "true") {
    std::printf("selected %s\n", text(member(v, "current"), "baseline").c_str());
  } else {
    std::printf("no baseline fits: %s keeps its current baseline\n", a.sensor.c_str());
  }
}

void augment(BaselineArgs& a, int& exit_code) {
  auto row = ask(a, verb::post, sensor_path(a.sensor) + "/augment", exit_code);
  if (!row) return;
  const json::value& details = member(*row, "details");
  std::printf(
      "augmented %s's baseline with %s points of history (%s discord windows cleaned "
      "out): now %s points, mean %s, std %s\n",
      a.sensor.c_str(), text(details, "added").c_str(), text(details, "removed").c_str(),
      text(*row, "points").c_str(), number(*row, "mean").c_str(), number(*row, "std").c_str());
}

}  // namespace

void add_baseline_command(CLI::App& app, int& exit_code) {
  static BaselineArgs a;
  auto* baseline = app.add_subcommand(
      "baseline",
      "The baseline library and sensors' baselines on a running server (--url, --token)");
  baseline->require_subcommand(1);
  // Adds a subcommand with the remote options that runs `run`.
  int* code = &exit_code;
  auto sub = [baseline, code](const char* name, const char* help,
                              void (*run)(BaselineArgs&, int&)) {
    auto* cmd = baseline->add_subcommand(name, help);
    add_remote_options(*cmd, a.remote);
    cmd->callback([code, run] { run(a, *code); });
    return cmd;
  };

  auto* list_cmd = sub("list", "The library: name, source, points, mean, std", list);
  list_cmd->add_option("--limit", a.limit, "Baselines per page, 1-1000 (default 50)");
  list_cmd->add_option("--cursor", a.cursor, "The next page, as the previous one said");

  auto* add_cmd = sub("add",
                      "Add a baseline (admin): values from a CSV file, or a range of a sensor's "
                      "history cleaned of its top discords",
                      add);
  add_cmd->add_option("NAME", a.name, "Baseline name (1-64 of A-Z a-z 0-9 . _ -)")->required();
  add_cmd->add_option("--csv", a.csv,
                      "One value a line, or at,value lines (the value taken); blank, nan or inf: "
                      "a gap; a header line is skipped");
  add_cmd->add_option("--sensor", a.sensor,
                      "Cut it from this sensor's history (with --from, --to)");
  add_cmd->add_option("--from", a.from, "With --sensor: from this time (RFC 3339 or epoch ms)");
  add_cmd->add_option("--to", a.to, "With --sensor: to this time, included");
  add_cmd->add_flag("--no-clean", a.no_clean, "With --sensor: keep the range's discords in");

  auto* show_cmd = sub("show", "One baseline: where it came from, points, mean, std", show);
  show_cmd->add_option("NAME", a.name, "Baseline name")->required();
  show_cmd->add_flag("--values", a.values, "Print its values instead, one a line (nan: a gap)");

  auto* delete_cmd =
      sub("delete", "Delete a baseline from the library (admin; sensors keep their copies)", drop);
  delete_cmd->add_option("NAME", a.name, "Baseline name")->required();

  auto* sensor_cmd =
      sub("sensor", "A sensor's current baseline and its history, newest first", of_sensor);
  sensor_cmd->add_option("SENSOR", a.sensor, "Sensor name")->required();

  auto* set_cmd = sub("set", "Judge a sensor against a library baseline from now on (admin)", set);
  set_cmd->add_option("SENSOR", a.sensor, "Sensor name")->required();
  set_cmd->add_option("NAME", a.name, "Library baseline name")->required();

  auto* select_cmd = sub("select",
                         "Select the library baseline the sensor's recent history fits best "
                         "(admin): each candidate's verdict and what was chosen",
                         select);
  select_cmd->add_option("SENSOR", a.sensor, "Sensor name")->required();

  auto* augment_cmd =
      sub("augment",
          "Add the sensor's cleaned history since the last augmentation to its baseline (admin)",
          augment);
  augment_cmd->add_option("SENSOR", a.sensor, "Sensor name")->required();
}

}  // namespace vigil::cli
