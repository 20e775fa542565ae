// What the commands that talk to a running server over HTTP share (`vigil device`, `vigil
// alarm`, `vigil rollout`): the options --url (VIGIL_URL), --token (VIGIL_TOKEN), --cacert
// (VIGIL_CACERT) and --json; one JSON call that prints the server's problem and sets the exit
// code when it fails (2 when the server refused the input, any 4xx; 1 otherwise: no answer, a
// server error); query strings; --label KEY=VALUE; aligned tables.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json/value.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/http_client.h"

namespace vigil::cli {

inline constexpr const char* kDefaultUrl = "http://127.0.0.1:8080";  // server.host, server.port

// Empty: from the environment (VIGIL_URL, VIGIL_TOKEN, VIGIL_CACERT), else the default. The
// environment is read when the command runs, not by CLI11: the subcommands share these
// variables, and CLI11 would fill them from the environment for every subcommand's options,
// over the flags of the one that runs.
struct RemoteOptions {
  std::string url;
  std::string token;
  std::string cacert;
  bool json = false;  // print the server's JSON as it came
};

void add_remote_options(CLI::App& cmd, RemoteOptions& options);

// An answer's JSON, and its text as the server sent it.
struct Answer {
  boost::json::value value;
  std::string raw;
};

// One JSON exchange with the server at options.url (`body` null: none). On failure prints
// "vigil: <why>" to stderr, sets exit_code (exit_code_for) and returns nullopt.
std::optional<Answer> call(const RemoteOptions& options, boost::beast::http::verb method,
                           const std::string& target, int& exit_code,
                           const boost::json::value& body = nullptr,
                           const std::map<std::string, std::string>& headers = {});
// call() with a body of another type (text/csv).
std::optional<Answer> call_text(const RemoteOptions& options, boost::beast::http::verb method,
                                const std::string& target, int& exit_code, const std::string& body,
                                const std::string& content_type);
// call() for what a command can do without: nullopt on any failure, and nothing printed.
std::optional<Answer> call_quietly(const RemoteOptions& options, boost::beast::http::verb method,
                                   const std::string& target);
// 2 for a failure the caller's input caused (the server answered 4xx), 1 otherwise.
int exit_code_for(const Status& status);

// The pairs of --label KEY=VALUE; prints the bad one, sets exit_code 2 and returns nullopt.
std::optional<std::vector<std::pair<std::string, std::string>>> read_labels(
    const std::vector<std::string>& labels, int& exit_code);
// An object's "labels" member as "k1=v1,k2=v2", or "-" for none.
std::string labels_text(const boost::json::value& object);

// "?a=1&b=x%20y" of the pairs whose value is not empty ("" for none); values percent-encoded.
std::string query_string(const std::vector<std::pair<std::string, std::string>>& pairs);
// A path segment, percent-encoded.
std::string path_segment(const std::string& s);
// A member of a JSON object; null when there is none (or no object).
const boost::json::value& member(const boost::json::value& object, const char* name);
// A JSON member as text: strings as they are, null and absent as "-", others serialized.
std::string text(const boost::json::value& object, const char* member);
// "name:version", or "-" for null.
std::string model_text(const boost::json::value& model);

// Rows printed under a header with each column as wide as its widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// With --json: prints the answer as it came and returns true.
bool print_json(const RemoteOptions& options, const Answer& answer);

// Prints a list page as a table (or its JSON, with --json); says how to get the next page on
// stderr when there is one.
void print_page(const RemoteOptions& options, const Answer& page, Table table,
                std::vector<std::string> (*row)(const boost::json::value& item));

void add_device_command(CLI::App& app, int& exit_code);
void add_agent_command(CLI::App& app, int& exit_code);
void add_alarm_command(CLI::App& app, int& exit_code);
void add_rollout_command(CLI::App& app, int& exit_code);
void add_task_command(CLI::App& app, int& exit_code);
void add_credits_command(CLI::App& app, int& exit_code);
void add_sensor_command(CLI::App& app, int& exit_code);
void add_telemetry_command(CLI::App& app, int& exit_code);
void add_baseline_command(CLI::App& app, int& exit_code);
void add_record_command(CLI::App& app, int& exit_code);
void add_simulate_command(CLI::App& app, int& exit_code);

}  // namespace vigil::cli
