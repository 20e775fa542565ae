// vigil record upload | list | show: sleep records on a running server over HTTP
// (docs/http/records.md "The CLI").
#include <boost/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/remote.h"

namespace vigil::cli {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;

struct RecordArgs {
  RemoteOptions remote;
  std::vector<std::string> files;
  std::string id, user, device, from, to, min_score, max_score, limit, cursor;
};

std::string score(const json::value& r) {
  const json::value& v = member(r, "sleep_score");
  if (!v.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v.to_number<double>());
  return buf;
}

std::string hours(const json::value& seconds) {
  if (!seconds.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f h", seconds.to_number<double>() / 3600);
  return buf;
}

std::vector<std::string> record_row(const json::value& r) {
  const json::value& stages = member(r, "stages");
  const json::value& efficiency = member(stages, "efficiency");
  char eff[16] = "-";
  if (efficiency.is_number()) {
    std::snprintf(eff, sizeof eff, "%.0f %%", 100 * efficiency.to_number<double>());
  }
  return {text(r, "id"),
          text(r, "user"),
          text(r, "device"),
          text(r, "start_time"),
          score(r),
          hours(member(stages, "asleep_s")),
          eff,
          text(member(r, "file"), "name")};
}

// Uploads each file; goes on after a refused one and exits 2 when any was refused.
void upload(RecordArgs& a, int& exit_code) {
  int worst = 0;
  for (const std::string& path : a.files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "vigil: cannot read %s\n", path.c_str());
      worst = std::max(worst, 2);
      continue;
    }
    std::ostringstream bytes;
    bytes << in.rdbuf();
    const std::string name = std::filesystem::path(path).filename().string();
    int code = 0;
    auto r = call_text(a.remote, verb::post, "/api/v1/records" + query_string({{"name", name}}),
                       code, bytes.str(), "application/octet-stream");
    if (!r) {
      std::fprintf(stderr, "vigil: %s was not stored\n", path.c_str());
      worst = std::max(worst, code);
      continue;
    }
    if (print_json(a.remote, *r)) continue;
    std::printf("%s: record %s of %s on %s, %s to %s, sleep score %s\n", path.c_str(),
                text(r->value, "id").c_str(), text(r->value, "user").c_str(),
                text(r->value, "device").c_str(), text(r->value, "start_time").c_str(),
                text(r->value, "stop_time").c_str(), score(r->value).c_str());
  }
  exit_code = worst;
}

void list(RecordArgs& a, int& exit_code) {
  auto page = call(a.remote, verb::get,
                   "/api/v1/records" + query_string({{"user", a.user},
                                                     {"device", a.device},
                                                     {"from", a.from},
                                                     {"to", a.to},
                                                     {"min_score", a.min_score},
                                                     {"max_score", a.max_score},
                                                     {"limit", a.limit},
                                                     {"cursor", a.cursor}}),
                   exit_code);
  if (!page) return;
  print_page(a.remote, *page,
             Table({"ID", "USER", "DEVICE", "START", "SCORE", "ASLEEP", "EFFICIENCY", "FILE"}),
             record_row);
}

void show(RecordArgs& a, int& exit_code) {
  auto r = call(a.remote, verb::get, "/api/v1/records/" + path_segment(a.id), exit_code);
  if (!r || print_json(a.remote, *r)) return;
  const json::value& v = r->value;
  const json::value& st = member(v, "stages");
  std::printf("record:     %s (%s, from %s)\n", text(v, "id").c_str(),
              text(member(v, "file"), "name").c_str(), text(v, "source").c_str());
  std::printf("user:       %s\n", text(v, "user").c_str());
  std::printf("device:     %s\n", text(v, "device").c_str());
  std::printf("in bed:     %s to %s\n", text(v, "start_time").c_str(),
              text(v, "stop_time").c_str());
  std::printf("asleep:     %s to %s\n", text(v, "sleep_start_time").c_str(),
              text(v, "sleep_stop_time").c_str());
  std::printf("score:      %s, %s stimulations, %s wakes\n", score(v).c_str(),
              text(v, "number_of_stimulations").c_str(), text(v, "number_of_wake").c_str());
  std::printf("stages:     wake %s, N1 %s, N2 %s, N3 %s, REM %s, artefact %s\n",
              hours(member(st, "wake_s")).c_str(), hours(member(st, "n1_s")).c_str(),
              hours(member(st, "n2_s")).c_str(), hours(member(st, "n3_s")).c_str(),
              hours(member(st, "rem_s")).c_str(), hours(member(st, "artefact_s")).c_str());
  std::printf("efficiency: %s\n", text(st, "efficiency").c_str());
  Table channels({"CHANNEL", "MODALITY", "FS", "UNIT", "SAMPLES"});
  const json::value& list = member(v, "channels");
  if (list.is_array()) {
    for (const auto& c : list.as_array()) {
      channels.add({text(c, "name"), text(c, "modality"), text(c, "fs"), text(c, "unit"),
                    text(c, "samples")});
    }
  }
  channels.print();
}

}  // namespace

void add_record_command(CLI::App& app, int& exit_code) {
  static RecordArgs a;
  auto* record = app.add_subcommand(
      "record", "Sleep records on a running server: upload files, list, show (--url, --token)");
  record->require_subcommand(1);
  int* code = &exit_code;
  auto sub = [record, code](const char* name, const char* help, void (*run)(RecordArgs&, int&)) {
    auto* cmd = record->add_subcommand(name, help);
    add_remote_options(*cmd, a.remote);
    cmd->callback([code, run] { run(a, *code); });
    return cmd;
  };
  auto* upload_cmd = sub("upload",
                         "Upload record files (HDF5; admin or watchdog): each is parsed and "
                         "stored, or refused with the reason",
                         upload);
  upload_cmd->add_option("FILE", a.files, "Record files")->required();

  auto* list_cmd = sub("list", "Records, newest first, with filters", list);
  list_cmd->add_option("--user", a.user, "A username or user id");
  list_cmd->add_option("--device", a.device, "A device name");
  list_cmd->add_option("--from", a.from, "Starting at or after (RFC 3339 or epoch ms)");
  list_cmd->add_option("--to", a.to, "Starting before (RFC 3339 or epoch ms)");
  list_cmd->add_option("--min-score", a.min_score, "Sleep score at least");
  list_cmd->add_option("--max-score", a.max_score, "Sleep score at most");
  list_cmd->add_option("--limit", a.limit, "Records per page, 1-1000 (default 50)");
  list_cmd->add_option("--cursor", a.cursor, "The next page, as the previous one said");

  auto* show_cmd = sub("show", "One record: its fields, stage durations and channels", show);
  show_cmd->add_option("ID", a.id, "Record id")->required();
}

}  // namespace vigil::cli
