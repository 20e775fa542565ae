#include "api/tasks.h"

#include <boost/json.hpp>

#include "api/fleet_json.h"
#include "api/handler.h"
#include "api/json_body.h"
#include "api/model_json.h"
#include "api/predict.h"
#include "api/schemas.h"
#include "core/json_text.h"
#include "core/strings.h"
#include "serving/named_rows.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using net::http::verb;
using tasks::credits_from_milli;

json::object task_json(const tasks::Task& t, bool with_input) {
  auto text = [](const std::string& s) {
    return s.empty() ? json::value(nullptr) : json::value(s);
  };
  json::value result = nullptr;
  if (!t.result.empty()) {
    boost::system::error_code ec;
    result = parse_json(t.result, ec);
    if (ec) result = nullptr;
  }
  json::object o{{"id", t.id},
                 {"user", t.user_id},
                 {"status", tasks::to_string(t.status)},
                 {"model", t.model},
                 {"version", t.version},
                 {"rows", t.rows},
                 {"cost", credits_from_milli(t.cost)},
                 {"created_at", t.created_at},
                 {"started_at", text(t.started_at)},
                 {"finished_at", text(t.finished_at)},
                 {"attempts", t.attempts},
                 {"result", std::move(result)},
                 {"error", text(t.error)}};
  if (with_input) {
    boost::system::error_code ec;
    json::value input = parse_json(t.input, ec);
    if (!ec) o["input"] = std::move(input);
  }
  return o;
}

namespace {

constexpr int kMaxWaitS = 60;  // GET …/{id}?wait=

// What a submit asks for, checked for shape on the I/O thread.
struct Request {
  std::string model;
  std::string version;  // a number, "latest", an alias; empty: production, else latest
  std::shared_ptr<const json::value> doc;
  bool explain = false;
  std::string key;
};

std::optional<Request> read_request(net::Exchange& ex, size_t max_rows) {
  auto body = read_json_object(ex);
  if (!body) return std::nullopt;
  Fields f(*body);
  f.reject_unknown({"model", "version", "rows", "explain"});
  Request r;
  r.model = f.required_string("model");
  if (const json::value* v = body->if_contains("version"); v && !v->is_null()) {
    if (v->is_int64() && v->get_int64() > 0)
      r.version = std::to_string(v->get_int64());
    else if (v->is_string() && !v->get_string().empty())
      r.version = v->get_string();
    else
      f.add("version", "a version number, latest, or an alias");
  }
  r.explain = f.optional_bool("explain").value_or(false);
  const json::value* rows = body->if_contains("rows");
  if (!rows || !rows->is_array() || rows->get_array().empty()) {
    f.add("rows", "required: a non-empty array of objects (feature name -> number or null)");
  } else if (rows->get_array().size() > max_rows) {
    f.add("rows", "at most " + std::to_string(max_rows) + " per task");
  }
  const auto& headers = ex.request();
  if (auto h = headers.find("Idempotency-Key"); h != headers.end()) {
    r.key = std::string(h->value());
    if (r.key.empty() || r.key.size() > 255) f.add("Idempotency-Key", "1 to 255 characters");
  }
  if (!f.ok()) {
    f.respond(ex);
    return std::nullopt;
  }
  r.doc = std::make_shared<const json::value>(
      json::object{{"rows", body->at("rows")}, {"explain", r.explain}});
  return r;
}

// The caller may see the task: theirs, or they are an admin.
bool visible(const net::Exchange& ex, int64_t owner) {
  return ex.principal()->role == "admin" || ex.principal()->user_id == owner;
}
bool visible(const net::Exchange& ex, const tasks::Task& t) { return visible(ex, t.user_id); }

// What a request waiting for task `id` does when the watch wakes it: answer with the task as it
// ended here (no second read), else read it again on the blocking pool (the deadline passed, or
// it ended in another process).
tasks::TaskWatch::Wake answer_when_ended(const TaskDeps& d, const ExchangePtr& ex, int64_t id) {
  return [d, ex, id](const tasks::Task* ended) {
    if (ended != nullptr) return ex->respond_json(status::ok, task_json(*ended, true));
    off_io(*d.blocking, ex, [d, id](net::Exchange& ex) {
      auto again = d.tasks->get(id);
      if (!again.ok()) return respond_status(ex, again.status());
      ex.respond_json(status::ok, task_json(*again, true));
    });
  };
}

class TaskHandlers {
 public:
  explicit TaskHandlers(TaskDeps d) : d_(std::move(d)) {}

  void submit(const ExchangePtr& ex) const {
    auto req = read_request(*ex, d_.max_rows);
    if (!req) return;
    off_io(*d_.blocking, ex, [d = d_, req = std::move(*req)](net::Exchange& ex) {
      auto m = d.server->resolve(req.model, req.version);
      if (!m.ok()) return respond_status(ex, m.status());
      const auto& model = **m;
      if (!check_model_access(ex, model.access, model.name)) return;
      if (model.features.empty()) {
        return respond_status(ex, invalid_field("model", "model " + model.label +
                                                             " has no feature names in its "
                                                             "metadata: a task needs them"));
      }
      auto rows = serving::named_rows(req.doc, req.doc->at("rows"), d.max_rows);
      if (!rows.ok()) return respond_status(ex, rows.status());
      std::vector<serving::FieldIssue> issues;
      serving::to_matrix(*rows, model, issues);
      if (!issues.empty()) return respond_issues(ex, issues);
      const size_t n = rows->rows.size();
      auto s = d.tasks->submit({.user_id = ex.principal()->user_id,
                                .model = model.name,
                                .version = model.version,
                                .input = json_text(*req.doc),
                                .rows = static_cast<int64_t>(n),
                                .cost = prediction_cost(model.price_per_row, n),
                                .idempotency_key = req.key});
      if (!s.ok()) return respond_status(ex, s.status());
      if (!s->ok) return respond_short(ex, s->short_of);
      if (!s->repeat && d.changed) d.changed(s->task);
      auto res = net::make_json(status::accepted, task_json(s->task));
      res.set(net::http::field::location, "/api/v1/tasks/" + std::to_string(s->task.id));
      if (s->repeat) res.set("Idempotent-Replayed", "true");
      ex.respond(std::move(res));
    });
  }

  void list(const ExchangePtr& ex) const {
    auto page = read_page(*ex);
    if (!page) return;
    tasks::TaskFilter f{.limit = page->limit, .before_id = page->cursor.value_or(0)};
    std::vector<net::FieldError> errors;
    if (auto s = ex->query("status")) {
      f.status = tasks::task_status_from(*s);
      if (!f.status) {
        errors.push_back(
            {"status", "must be one of queued, running, done, rejected, failed, cancelled"});
      }
    }
    const bool admin = ex->principal()->role == "admin";
    if (auto u = ex->query("user")) {
      auto id = parse_int<int64_t>(*u, 1);
      if (!id)
        errors.push_back({"user", "must be a user id"});
      else if (!admin && *id != ex->principal()->user_id) {
        return ex->respond_problem(status::forbidden, "only admins read other users' tasks");
      } else {
        f.user_id = id;
      }
    }
    if (!errors.empty()) {
      return ex->respond_problem(status::unprocessable_entity, "invalid query parameters", errors);
    }
    if (!admin) f.user_id = ex->principal()->user_id;
    off_io(*d_.blocking, ex, [d = d_, f](net::Exchange& ex) {
      auto list = d.tasks->list(f);
      if (!list.ok()) return respond_status(ex, list.status());
      respond_list(
          ex, *list, f.limit, [](const tasks::Task& t) { return task_json(t); },
          [](const tasks::Task& t) { return t.id; });
    });
  }

  void get(const ExchangePtr& ex) const {
    int wait_s = 0;
    if (auto w = ex->query("wait")) {
      auto parsed = parse_int<int>(*w, 0);
      if (!parsed || *parsed > kMaxWaitS) {
        return respond_status(
            *ex, invalid_field("wait", "seconds from 0 to " + std::to_string(kMaxWaitS)));
      }
      wait_s = *parsed;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
    if (wait_s > 0 && d_.watch != nullptr) {
      // Submitted here and not ended: whose it is is known, so it waits without a first read.
      auto id = parse_int<int64_t>(ex->param("id"), 1);
      auto owner = id ? d_.watch->owner_of(*id) : std::nullopt;
      if (owner && visible(*ex, *owner)) {
        if (d_.watch->wait(*id, deadline, answer_when_ended(d_, ex, *id))) return;
      }
    }
    with_task(ex, [deadline, wait_s](const TaskDeps& d, net::Exchange& ex, const tasks::Task& t) {
      if (wait_s == 0 || d.watch == nullptr || tasks::is_finished(t.status)) {
        return ex.respond_json(status::ok, task_json(t, true));
      }
      // Parks the request: the watch wakes it when the task ends or at the deadline.
      if (!d.watch->wait(t.id, deadline, answer_when_ended(d, ex.shared_from_this(), t.id))) {
        ex.respond_json(status::ok, task_json(t, true));  // too many waiting: answer now
      }
    });
  }

  void cancel(const ExchangePtr& ex) const {
    with_task(ex, [](const TaskDeps& d, net::Exchange& ex, const tasks::Task& t) {
      auto c = d.tasks->cancel(t.id);
      if (!c.ok()) return respond_status(ex, c.status());
      if (d.changed) d.changed(*c);
      ex.respond(net::HttpResponse{status::no_content, 11});
    });
  }

 private:
  // Calls fn on the blocking pool with the task of the path, when the caller may see it (404
  // otherwise: another user's task does not exist for them).
  template <class Fn>
  void with_task(const ExchangePtr& ex, Fn fn) const {
    auto id = parse_int<int64_t>(ex->param("id"), 1);
    if (!id) return ex->respond_problem(status::not_found, "no such task");
    off_io(*d_.blocking, ex, [d = d_, id = *id, fn](net::Exchange& ex) {
      auto t = d.tasks->get(id);
      if (!t.ok()) return respond_status(ex, t.status());
      if (!visible(ex, *t)) return ex.respond_problem(status::not_found, "no such task");
      fn(d, ex, *t);
    });
  }

  TaskDeps d_;
};

json::value task_schema() {
  auto nullable = [](const char* type) { return json::value{{"type", json::array{type, "null"}}}; };
  return all_required(
      {{"type", "object"},
       {"properties",
        {{"id", {{"type", "integer"}}},
         {"user", {{"type", "integer"}}},
         {"status",
          {{"type", "string"},
           {"enum", json::array{"queued", "running", "done", "rejected", "failed", "cancelled"}}}},
         {"model", {{"type", "string"}}},
         {"version", {{"type", "integer"}}},
         {"rows", {{"type", "integer"}}},
         {"cost", {{"type", "number"}, {"description", "credits, held until the task ends"}}},
         {"created_at", {{"type", "string"}}},
         {"started_at", nullable("string")},
         {"finished_at", nullable("string")},
         {"attempts", {{"type", "integer"}}},
         {"result",
          {{"type", json::array{"object", "null"}},
           {"description",
            "done: {model, version, rows: [{prediction, band: {label, color} | null, "
            "contributions?}]}"}}},
         {"error", nullable("string")}}}});
}

}  // namespace

void add_task_routes(net::Router& router, TaskDeps deps) {
  auto h = std::make_shared<const TaskHandlers>(deps);
  router.add(
      verb::post, "/api/v1/tasks",
      {.operation_id = "submitTask",
       .summary = "Submit an asynchronous prediction; its cost is held until it ends",
       .tag = "tasks",
       .action = "tasks.submit",
       .params = {{"Idempotency-Key", "header",
                   "The same key with the same request makes one task (the answer is replayed)"}},
       .request_schema =
           json::object{{"type", "object"},
                        {"required", json::array{"model", "rows"}},
                        {"properties",
                         {{"model", {{"type", "string"}}},
                          {"version", {{"type", json::array{"integer", "string"}}}},
                          {"rows", {{"type", "array"}, {"items", {{"type", "object"}}}}},
                          {"explain", {{"type", "boolean"}}}}}},
       .responses = {{202, "Queued", task_schema()},
                     problem_response(402, "Not enough credits (balance and cost given)"),
                     problem_response(404, "No such model or version"),
                     problem_response(409, "The Idempotency-Key was used for another request"),
                     problem_response(422, "Unknown features or non-numbers, named")},
       .max_body_bytes = deps.max_body_bytes},
      bind(h, &TaskHandlers::submit));
  auto params = page_params();
  params.push_back({"status", "query", "queued, running, done, rejected, failed or cancelled"});
  params.push_back({"user", "query", "Admins: this user's tasks (default: everyone's)"});
  router.add(verb::get, "/api/v1/tasks",
             {.operation_id = "listTasks",
              .summary = "Task history, newest first: one's own (admins: everyone's)",
              .tag = "tasks",
              .action = "tasks.read",
              .params = std::move(params),
              .responses = {{200, "A page of tasks", list_schema(task_schema())}}},
             bind(h, &TaskHandlers::list));
  router.add(
      verb::get, "/api/v1/tasks/{id}",
      {.operation_id = "getTask",
       .summary = "One task with its input and result (owner or admin)",
       .tag = "tasks",
       .action = "tasks.read",
       .params = {{"wait", "query",
                   "seconds (0-" + std::to_string(kMaxWaitS) +
                       ") to wait for the task to end before answering; it answers as "
                       "soon as it ends, or at the end of the wait with the task as it "
                       "is then",
                   json::object{{"type", "integer"}, {"minimum", 0}, {"maximum", kMaxWaitS}}}},
       .responses = {{200, "The task", task_schema()},
                     problem_response(404, "No such task (or not the caller's)")}},
      bind(h, &TaskHandlers::get));
  router.add(verb::delete_, "/api/v1/tasks/{id}",
             {.operation_id = "cancelTask",
              .summary = "Cancel a queued task (owner or admin); its hold is released",
              .tag = "tasks",
              .action = "tasks.cancel",
              .responses = {{204, "Cancelled"},
                            problem_response(404, "No such task (or not the caller's)"),
                            problem_response(409, "It is running or finished")}},
             bind(h, &TaskHandlers::cancel));
}

}  // namespace vigil::api
