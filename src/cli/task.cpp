// vigil task submit | list | show | cancel and vigil credits show | topup: asynchronous
// predictions and credits, over HTTP against a running server (docs/http/tasks.md,
// docs/http/credits.md).
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli/remote.h"
#include "core/json_text.h"
#include "tasks/rows_text.h"

namespace vigil::cli {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;

struct TaskArgs {
  RemoteOptions remote;
  std::string id;
  std::string model, version, rows_file, key;
  bool explain = false, wait = false;
  int wait_s = 60;
  std::string status, user, limit, cursor;
  // credits
  std::string amount, reason;
  bool ledger = false;
};

// The rows of FILE (- for stdin): tasks::parse_rows_text. Prints why and returns nullopt when
// it cannot.
std::optional<json::array> read_rows(const std::string& path) {
  std::ifstream in(path == "-" ? "/dev/stdin" : path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "vigil: cannot read %s\n", path.c_str());
    return std::nullopt;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  auto rows = tasks::parse_rows_text(buf.str());
  if (!rows.ok()) {
    std::fprintf(stderr, "vigil: %s: %s\n", path.c_str(), rows.status().message().c_str());
    return std::nullopt;
  }
  return std::move(*rows);
}

std::vector<std::string> task_row(const json::value& t) {
  return {text(t, "id"),         text(t, "status"), text(t, "model") + ":" + text(t, "version"),
          text(t, "rows"),       text(t, "cost"),   text(t, "created_at"),
          text(t, "finished_at")};
}

void print_task(const json::value& t) {
  std::printf("task %s: %s, %s:%s, %s rows, cost %s, attempts %s\n", text(t, "id").c_str(),
              text(t, "status").c_str(), text(t, "model").c_str(), text(t, "version").c_str(),
              text(t, "rows").c_str(), text(t, "cost").c_str(), text(t, "attempts").c_str());
  if (!member(t, "error").is_null()) std::printf("error: %s\n", text(t, "error").c_str());
  const json::value& result = member(t, "result");
  if (!result.is_object()) return;
  Table table({"ROW", "PREDICTION", "BAND"});
  size_t i = 0;
  for (const auto& r : member(result, "rows").as_array()) {
    const json::value& band = member(r, "band");
    table.add({std::to_string(i++), json_text(member(r, "prediction")),
               band.is_object() ? text(band, "label") : "-"});
  }
  table.print();
}

void show(TaskArgs& a, int& exit_code) {
  auto t = call(a.remote, verb::get, "/api/v1/tasks/" + path_segment(a.id), exit_code);
  if (!t || print_json(a.remote, *t)) return;
  print_task(t->value);
}

void submit(TaskArgs& a, int& exit_code) {
  auto rows = read_rows(a.rows_file);
  if (!rows) {
    exit_code = 2;
    return;
  }
  json::object body{{"model", a.model}, {"rows", std::move(*rows)}, {"explain", a.explain}};
  if (!a.version.empty()) {
    char* end = nullptr;
    const long long v = std::strtoll(a.version.c_str(), &end, 10);
    body["version"] = *end == '\0' ? json::value(v) : json::value(a.version);
  }
  std::map<std::string, std::string> headers;
  if (!a.key.empty()) headers["Idempotency-Key"] = a.key;
  auto t = call(a.remote, verb::post, "/api/v1/tasks", exit_code, body, headers);
  if (!t) return;
  const std::string id = text(t->value, "id");
  if (!a.wait) {
    if (print_json(a.remote, *t)) return;
    std::printf("queued task %s: %s:%s, %s rows, cost %s (vigil task show %s)\n", id.c_str(),
                text(t->value, "model").c_str(), text(t->value, "version").c_str(),
                text(t->value, "rows").c_str(), text(t->value, "cost").c_str(), id.c_str());
    return;
  }
  // --wait: until it ends, then as `task show`; exit 1 when it did not end done. Each read waits
  // on the server (?wait=, at most 20 s a time, under the client's request timeout).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(a.wait_s);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(
        deadline - std::chrono::steady_clock::now());
    const int64_t wait = std::clamp<int64_t>(left.count(), 0, 20);
    auto now = call(a.remote, verb::get, "/api/v1/tasks/" + id + "?wait=" + std::to_string(wait),
                    exit_code);
    if (!now) return;
    const std::string status = text(now->value, "status");
    if (status != "queued" && status != "running") {
      if (!print_json(a.remote, *now)) print_task(now->value);
      if (status != "done") exit_code = 1;
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::fprintf(stderr, "vigil: task %s is still %s after %d s\n", id.c_str(), status.c_str(),
                   a.wait_s);
      exit_code = 1;
      return;
    }
  }
}

void list(TaskArgs& a, int& exit_code) {
  auto page = call(
      a.remote, verb::get,
      "/api/v1/tasks" +
          query_string(
              {{"status", a.status}, {"user", a.user}, {"limit", a.limit}, {"cursor", a.cursor}}),
      exit_code);
  if (!page) return;
  print_page(a.remote, *page,
             Table({"ID", "STATUS", "MODEL", "ROWS", "COST", "CREATED", "FINISHED"}), task_row);
}

void cancel(TaskArgs& a, int& exit_code) {
  if (!call(a.remote, verb::delete_, "/api/v1/tasks/" + path_segment(a.id), exit_code)) return;
  std::printf("cancelled task %s (its credits are released)\n", a.id.c_str());
}

std::vector<std::string> entry_row(const json::value& e) {
  return {text(e, "id"),      text(e, "at"),    text(e, "amount"), text(e, "balance_after"),
          text(e, "task_id"), text(e, "reason")};
}

void credits_show(TaskArgs& a, int& exit_code) {
  if (a.ledger || !a.user.empty()) {
    auto page = call(a.remote, verb::get,
                     "/api/v1/credits/transactions" +
                         query_string({{"user", a.user}, {"limit", a.limit}, {"cursor", a.cursor}}),
                     exit_code);
    if (!page) return;
    print_page(a.remote, *page, Table({"ID", "AT", "AMOUNT", "BALANCE", "TASK", "REASON"}),
               entry_row);
    return;
  }
  auto c = call(a.remote, verb::get, "/api/v1/credits", exit_code);
  if (!c || print_json(a.remote, *c)) return;
  std::printf("balance %s (held for tasks %s, available %s)\n", text(c->value, "balance").c_str(),
              text(c->value, "held").c_str(), text(c->value, "available").c_str());
}

void topup(TaskArgs& a, int& exit_code) {
  char* end = nullptr;
  const double amount = std::strtod(a.amount.c_str(), &end);
  if (a.amount.empty() || *end != '\0') {
    std::fprintf(stderr, "vigil: AMOUNT must be a number of credits, got '%s'\n", a.amount.c_str());
    exit_code = 2;
    return;
  }
  auto e = call(a.remote, verb::post, "/api/v1/users/" + path_segment(a.user) + "/credits",
                exit_code, json::object{{"amount", amount}, {"reason", a.reason}});
  if (!e || print_json(a.remote, *e)) return;
  std::printf("credited %s to user %s: balance %s\n", text(e->value, "amount").c_str(),
              a.user.c_str(), text(e->value, "balance_after").c_str());
}

}  // namespace

void add_task_command(CLI::App& app, int& exit_code) {
  static TaskArgs a;
  auto* task = app.add_subcommand(
      "task", "Submit, list, show and cancel asynchronous predictions on a running server");
  task->require_subcommand(1);

  auto* sub = task->add_subcommand("submit", "Queue a prediction of the rows of a file");
  sub->add_option("--model", a.model, "The model")->required();
  sub->add_option("--version", a.version,
                  "A version number, latest, or an alias (default: production, else latest)");
  sub->add_option("--rows", a.rows_file,
                  "FILE: a JSON array of rows ({feature: number|null}) or a CSV whose first line "
                  "names the features (empty field: missing); - for stdin")
      ->required();
  sub->add_flag("--explain", a.explain, "Add each feature's contribution to the result");
  sub->add_option("--idempotency-key", a.key,
                  "Sent as Idempotency-Key: the same key again makes no second task");
  sub->add_flag("--wait", a.wait, "Wait until it ends and print the result (exit 1 if not done)");
  sub->add_option("--wait-s", a.wait_s, "With --wait: give up after this long (default 60)");
  add_remote_options(*sub, a.remote);
  sub->callback([&exit_code] { submit(a, exit_code); });

  auto* list_cmd = task->add_subcommand("list", "Task history, newest first (admins: everyone's)");
  list_cmd->add_option("--status", a.status,
                       "queued, running, done, rejected, failed or cancelled");
  list_cmd->add_option("--user", a.user, "Admins: this user's tasks");
  list_cmd->add_option("--limit", a.limit, "Tasks per page, 1-1000 (default 50)");
  list_cmd->add_option("--cursor", a.cursor, "The next page, as the previous one said");
  add_remote_options(*list_cmd, a.remote);
  list_cmd->callback([&exit_code] { list(a, exit_code); });

  auto* show_cmd = task->add_subcommand("show", "One task, with its result per row");
  show_cmd->add_option("ID", a.id, "The task's id")->required();
  add_remote_options(*show_cmd, a.remote);
  show_cmd->callback([&exit_code] { show(a, exit_code); });

  auto* cancel_cmd = task->add_subcommand("cancel", "Cancel a queued task (its credits released)");
  cancel_cmd->add_option("ID", a.id, "The task's id")->required();
  add_remote_options(*cancel_cmd, a.remote);
  cancel_cmd->callback([&exit_code] { cancel(a, exit_code); });
}

void add_credits_command(CLI::App& app, int& exit_code) {
  static TaskArgs a;
  auto* credits =
      app.add_subcommand("credits", "Credits on a running server: balance, ledger, top-ups");
  credits->require_subcommand(1);
  auto* show_cmd = credits->add_subcommand("show", "Your balance (or, --ledger, your ledger)");
  show_cmd->add_flag("--ledger", a.ledger, "The ledger entries, newest first");
  show_cmd->add_option("--user", a.user, "Admins: this user's ledger");
  show_cmd->add_option("--limit", a.limit, "Entries per page, 1-1000 (default 50)");
  show_cmd->add_option("--cursor", a.cursor, "The next page, as the previous one said");
  add_remote_options(*show_cmd, a.remote);
  show_cmd->callback([&exit_code] { credits_show(a, exit_code); });

  auto* topup_cmd = credits->add_subcommand(
      "topup", "Credit a user (admin); a negative amount corrects a balance");
  topup_cmd->add_option("USER_ID", a.user, "The user's id")->required();
  topup_cmd->add_option("AMOUNT", a.amount, "Credits, up to 3 decimals")->required();
  topup_cmd->add_option("--reason", a.reason, "Why (kept in the ledger)")->required();
  add_remote_options(*topup_cmd, a.remote);
  topup_cmd->callback([&exit_code] { topup(a, exit_code); });
}

}  // namespace vigil::cli
