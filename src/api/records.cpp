#include "api/records.h"

#include <boost/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include "api/fleet_json.h"
#include "api/handler.h"
#include "api/json_body.h"
#include "api/schemas.h"
#include "core/ids.h"
#include "core/json_text.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using records::Record;

namespace {

constexpr size_t kDefaultMaxPoints = 2000;
constexpr size_t kMaxMaxPoints = 20000;
constexpr int kMaxWithin = 1000;

std::string time_of(int64_t unix_s) { return format_epoch_ms(unix_s * 1000); }

json::value number_or_null(std::optional<double> v) {
  return v && std::isfinite(*v) ? json::value(*v) : json::value(nullptr);
}
json::value int_or_null(std::optional<int64_t> v) { return v ? json::value(*v) : nullptr; }
// A sample as its shortest decimal ("-41.19287", not the double -41.19287109375).
json::value float_or_null(float v) {
  if (!std::isfinite(v)) return nullptr;
  char buf[32];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  double d = 0;
  std::from_chars(buf, end, d);
  return d;
}

const char* stage_name(int stage) {
  switch (stage) {
    case 0: return "wake";
    case 1: return "N1";
    case 2: return "N2";
    case 3: return "N3";
    case 4: return "REM";
    default: return "artefact";
  }
}

json::array hypnogram_json(const Record& r) {
  json::array out;
  out.reserve(r.hypnogram.size());
  for (size_t e = 0; e < r.hypnogram.size(); ++e) {
    const int stage = r.hypnogram[e] >= -1 && r.hypnogram[e] <= 4 ? r.hypnogram[e] : -1;
    out.push_back({{"at", time_of(r.start_time + static_cast<int64_t>(e) * records::kEpochSeconds)},
                   {"stage", stage},
                   {"name", stage_name(stage)}});
  }
  return out;
}

json::object channel_json(const records::ChannelInfo& c) {
  return {{"index", c.index},
          {"name", c.name},
          {"modality", c.modality},
          {"fs", c.fs},
          {"unit", c.unit},
          {"samples", c.samples},
          {"duration_s", c.fs > 0 ? static_cast<double>(c.samples) / c.fs : 0.0}};
}

json::object record_json(const Record& r) {
  boost::system::error_code ec;
  json::value attributes = parse_json(r.attributes, ec);
  if (ec || !attributes.is_object()) attributes = json::object();
  const records::SleepStats& s = r.stats;
  json::array channels;
  for (const auto& c : r.channels) channels.push_back(channel_json(c));
  return {{"id", r.id},
          {"user", r.username},
          {"user_id", user_or_null(r.user_id)},
          {"device", r.device},
          {"device_id", r.device_id > 0 ? json::value(r.device_id) : nullptr},
          {"dreempy_version", r.dreempy_version},
          {"start_time", time_of(r.start_time)},
          {"stop_time", time_of(r.stop_time)},
          {"sleep_start_time", time_of(r.sleep_start_time)},
          {"sleep_stop_time", time_of(r.sleep_stop_time)},
          {"sleep_score", r.sleep_score},
          {"number_of_stimulations", r.number_of_stimulations},
          {"number_of_wake", r.number_of_wake},
          {"stages",
           {{"epochs", s.epochs},
            {"artefact_s", s.artefact_s},
            {"wake_s", s.wake_s},
            {"n1_s", s.n1_s},
            {"n2_s", s.n2_s},
            {"n3_s", s.n3_s},
            {"rem_s", s.rem_s},
            {"asleep_s", s.asleep_s},
            {"efficiency", number_or_null(s.efficiency)},
            {"sleep_latency_s", int_or_null(s.sleep_latency_s)},
            {"rem_latency_s", int_or_null(s.rem_latency_s)}}},
          {"attributes", std::move(attributes)},
          {"channels", std::move(channels)},
          {"file", {{"name", r.file_name}, {"bytes", r.file_bytes}, {"sha256", r.sha256}}},
          {"source", r.source},
          {"created_at", r.created_at},
          {"created_by", user_or_null(r.created_by)}};
}

std::optional<int64_t> path_id(net::Exchange& ex) {
  const std::string text(ex.param("id"));
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id < 1) {
    ex.respond_problem(status::not_found, "no record " + text);
    return std::nullopt;
  }
  return id;
}

// A time query parameter (RFC 3339 or epoch milliseconds) as epoch ms.
std::optional<int64_t> time_param(net::Exchange& ex, const char* name,
                                  std::vector<net::FieldError>& errors) {
  auto text = ex.query(name);
  if (!text) return std::nullopt;
  auto t = parse_timestamp(*text);
  if (!t) {
    errors.push_back({name, "must be RFC 3339 or epoch milliseconds"});
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

std::optional<double> number_param(net::Exchange& ex, const char* name,
                                   std::vector<net::FieldError>& errors) {
  auto text = ex.query(name);
  if (!text) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size() || !std::isfinite(v)) {
    errors.push_back({name, "must be a number"});
    return std::nullopt;
  }
  return v;
}

int64_t floor_div(int64_t ms, int64_t by) { return ms >= 0 ? ms / by : -((-ms + by - 1) / by); }

void respond_fields(net::Exchange& ex, const std::vector<net::FieldError>& errors) {
  ex.respond(
      net::make_problem(status::unprocessable_entity, "a query parameter is invalid", errors));
}

// The file's faults are 422 with the reason; the rest as everywhere.
void respond_ingest_error(net::Exchange& ex, const Status& s) {
  switch (s.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kFailedPrecondition:
      return ex.respond_problem(status::unprocessable_entity, s.message());
    case ErrorCode::kAlreadyExists: return ex.respond_problem(status::conflict, s.message());
    default: return respond_status(ex, s);
  }
}

// Writes the body to a new file in `dir`; its path.
Expected<std::string> write_upload(const std::string& dir, const std::string& body) {
  std::string path = dir + "/upload-" + random_token(12) + ".h5";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return unavailable("cannot write the upload: " + std::string(std::strerror(errno)));
  size_t done = 0;
  while (done < body.size()) {
    const ssize_t n = ::write(fd, body.data() + done, body.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(path.c_str());
      return unavailable("cannot write the upload: " + std::string(std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return path;
}

class RecordHandlers {
 public:
  explicit RecordHandlers(RecordDeps d) : d_(std::move(d)) {}

  void upload(const ExchangePtr& ex) const {
    if (ex->request().body().empty()) {
      return respond_status(*ex, invalid_field("body", "is empty: send the record file's bytes"));
    }
    std::string name = ex->query("name").value_or("upload.h5");
    off_io(*d_.blocking, ex, [d = d_, name](net::Exchange& ex) {
      int64_t only_device = 0;
      if (ex.principal()->role == "watchdog") {
        auto w = d.watchdogs->get_caller(ex.principal()->user_id);
        if (!w.ok()) return respond_status(ex, w.status());
        only_device = w->device_id;
      }
      auto path = write_upload(d.upload_dir, ex.request().body());
      if (!path.ok()) return respond_status(ex, path.status());
      auto r = d.records->ingest({.path = *path,
                                  .file_name = name,
                                  .source = "upload",
                                  .by_user = ex.principal()->user_id,
                                  .only_device = only_device});
      ::unlink(path->c_str());
      if (!r.ok()) return respond_ingest_error(ex, r.status());
      respond_created(ex, "/api/v1/records/" + std::to_string(r->id), record_json(*r));
    });
  }

  void list(const ExchangePtr& ex) const {
    auto page = read_page(*ex);
    if (!page) return;
    std::vector<net::FieldError> errors;
    records::RecordFilter f{.user = ex->query("user"), .device = ex->query("device")};
    if (auto from = time_param(*ex, "from", errors)) f.from = floor_div(*from, 1000);
    if (auto to = time_param(*ex, "to", errors)) f.to = floor_div(*to + 999, 1000);
    f.min_score = number_param(*ex, "min_score", errors);
    f.max_score = number_param(*ex, "max_score", errors);
    if (!errors.empty()) return respond_fields(*ex, errors);
    f.limit = page->limit;
    f.before_id = page->cursor.value_or(0);
    off_io(*d_.blocking, ex, [d = d_, f](net::Exchange& ex) {
      auto items = d.records->store().list(f);
      if (!items.ok()) return respond_status(ex, items.status());
      respond_list(ex, *items, f.limit, record_json, [](const Record& r) { return r.id; });
    });
  }

  void get(const ExchangePtr& ex) const {
    auto id = path_id(*ex);
    if (!id) return;
    off_io(*d_.blocking, ex, [d = d_, id = *id](net::Exchange& ex) {
      auto r = d.records->store().get(id, false);
      if (!r.ok()) return respond_status(ex, r.status());
      ex.respond_json(status::ok, record_json(*r));
    });
  }

  void remove(const ExchangePtr& ex) const {
    auto id = path_id(*ex);
    if (!id) return;
    off_io(*d_.blocking, ex, [d = d_, id = *id](net::Exchange& ex) {
      if (Status s = d.records->store().remove(id); !s.ok()) return respond_status(ex, s);
      ex.respond(net::HttpResponse{status::no_content, 11});
    });
  }

  void hypnogram(const ExchangePtr& ex) const {
    auto id = path_id(*ex);
    if (!id) return;
    off_io(*d_.blocking, ex, [d = d_, id = *id](net::Exchange& ex) {
      auto r = d.records->store().get(id, true);
      if (!r.ok()) return respond_status(ex, r.status());
      ex.respond_json(status::ok, hypnogram_json(*r));
    });
  }

  void channels(const ExchangePtr& ex) const {
    auto id = path_id(*ex);
    if (!id) return;
    off_io(*d_.blocking, ex, [d = d_, id = *id](net::Exchange& ex) {
      auto r = d.records->store().get(id, false);
      if (!r.ok()) return respond_status(ex, r.status());
      json::array out;
      for (const auto& c : r->channels) out.push_back(channel_json(c));
      ex.respond_json(status::ok, out);
    });
  }

  void signal(const ExchangePtr& ex) const {
    auto id = path_id(*ex);
    if (!id) return;
    std::vector<net::FieldError> errors;
    auto from = time_param(*ex, "from", errors);
    auto to = time_param(*ex, "to", errors);
    size_t max_points = kDefaultMaxPoints;
    if (auto m = number_param(*ex, "max_points", errors)) {
      if (*m < 1 || *m > kMaxMaxPoints || *m != std::floor(*m)) {
        errors.push_back({"max_points", "must be a whole number from 1 to 20000"});
      } else {
        max_points = static_cast<size_t>(*m);
      }
    }
    if (from && to && *from > *to) errors.push_back({"from", "must not be after to"});
    if (!errors.empty()) return respond_fields(*ex, errors);
    off_io(*d_.blocking, ex, [d = d_, id = *id, from, to, max_points](net::Exchange& ex) {
      auto v = d.records->signal(id, ex.param("channel"), from, to, max_points);
      if (!v.ok()) return respond_status(ex, v.status());
      const records::Envelope& e = v->envelope;
      const double t0 = static_cast<double>(v->record.start_time) * 1000;
      const double ms_per_sample = 1000 / v->channel.fs;
      json::array at, lo, hi;
      at.reserve(e.min.size());
      lo.reserve(e.min.size());
      hi.reserve(e.min.size());
      for (size_t b = 0; b < e.min.size(); ++b) {
        const double i = static_cast<double>(e.first + static_cast<int64_t>(b) * e.step);
        at.push_back(std::llround(t0 + i * ms_per_sample));
        lo.push_back(float_or_null(e.min[b]));
        hi.push_back(float_or_null(e.max[b]));
      }
      auto at_sample = [&](int64_t i) {
        return format_epoch_ms(std::llround(t0 + static_cast<double>(i) * ms_per_sample));
      };
      json::object body{{"record", v->record.id},
                        {"channel", channel_json(v->channel)},
                        {"from", at_sample(v->first)},
                        {"to", at_sample(v->last)},
                        {"first_sample", v->first},
                        {"samples", v->last - v->first},
                        {"step", e.step},
                        {"points", e.min.size()},
                        {"at_ms", std::move(at)},
                        {"min", std::move(lo)},
                        {"max", std::move(hi)}};
      ex.respond_json(status::ok, body);
    });
  }

  // The original's GET /signal/{user}: the user's records lying wholly inside [from, to].
  void of_user(const ExchangePtr& ex) const {
    std::vector<net::FieldError> errors;
    auto from = time_param(*ex, "from", errors);
    auto to = time_param(*ex, "to", errors);
    if (from && to && *from > *to) errors.push_back({"from", "must not be after to"});
    if (!errors.empty()) return respond_fields(*ex, errors);
    const int64_t from_s = from ? floor_div(*from + 999, 1000) : 0;
    const int64_t to_s = to ? floor_div(*to, 1000) : std::numeric_limits<int64_t>::max() / 2;
    off_io(*d_.blocking, ex, [d = d_, from_s, to_s](net::Exchange& ex) {
      auto user = d.records->store().user_id(ex.param("user"));
      if (!user.ok()) return respond_status(ex, user.status());
      auto items = d.records->store().within(*user, from_s, to_s, kMaxWithin + 1);
      if (!items.ok()) return respond_status(ex, items.status());
      const bool truncated = items->size() > static_cast<size_t>(kMaxWithin);
      if (truncated) items->pop_back();
      json::array out;
      for (const Record& r : *items) {
        json::object o = record_json(r);
        o["hypnogram"] = hypnogram_json(r);
        out.push_back(std::move(o));
      }
      ex.respond_json(status::ok, json::object{{"user", ex.param("user")},
                                               {"user_id", *user},
                                               {"records", std::move(out)},
                                               {"truncated", truncated}});
    });
  }

 private:
  RecordDeps d_;
};

json::value channel_schema() {
  return all_required(object_schema({{"index", "integer"},
                                     {"name", "string"},
                                     {"modality", "string"},
                                     {"fs", "number"},
                                     {"unit", "string"},
                                     {"samples", "integer"},
                                     {"duration_s", "number"}}));
}

json::value record_schema(bool with_hypnogram) {
  auto nullable = [](const char* type) { return json::value{{"type", json::array{type, "null"}}}; };
  json::value text = {{"type", "string"}};
  json::value integer = {{"type", "integer"}};
  json::value number = {{"type", "number"}};
  json::object props{
      {"id", integer},
      {"user", {{"type", "string"}, {"description", "The file's user attribute (a username)"}}},
      {"user_id", nullable("integer")},
      {"device", text},
      {"device_id", nullable("integer")},
      {"dreempy_version", text},
      {"start_time", text},
      {"stop_time", text},
      {"sleep_start_time", text},
      {"sleep_stop_time", text},
      {"sleep_score", number},
      {"number_of_stimulations", integer},
      {"number_of_wake", integer},
      {"stages", all_required({{"type", "object"},
                               {"description", "Seconds in each stage of the hypnogram"},
                               {"properties",
                                {{"epochs", integer},
                                 {"artefact_s", integer},
                                 {"wake_s", integer},
                                 {"n1_s", integer},
                                 {"n2_s", integer},
                                 {"n3_s", integer},
                                 {"rem_s", integer},
                                 {"asleep_s", integer},
                                 {"efficiency", nullable("number")},
                                 {"sleep_latency_s", nullable("integer")},
                                 {"rem_latency_s", nullable("integer")}}}})},
      {"attributes", {{"type", "object"}, {"description", "Every root attribute of the file"}}},
      {"channels", {{"type", "array"}, {"items", channel_schema()}}},
      {"file", all_required(object_schema(
                   {{"name", "string"}, {"bytes", "integer"}, {"sha256", "string"}}))},
      {"source", {{"enum", json::array{"dropzone", "upload"}}}},
      {"created_at", text},
      {"created_by", nullable("integer")}};
  if (with_hypnogram) props["hypnogram"] = {{"type", "array"}};
  return all_required({{"type", "object"}, {"properties", std::move(props)}});
}

json::value hypnogram_schema() {
  return {
      {"type", "array"},
      {"items", all_required({{"type", "object"},
                              {"properties",
                               {{"at", {{"type", "string"}}},
                                {"stage",
                                 {{"type", "integer"},
                                  {"description", "-1 artefact, 0 wake, 1 N1, 2 N2, 3 N3, 4 REM"}}},
                                {"name", {{"type", "string"}}}}}})}};
}

net::ParamSpec time_spec(const char* name, const char* what) {
  return {name, "query", std::string(what) + " (RFC 3339 or epoch milliseconds)"};
}

net::RouteSpec upload_spec(int64_t max_bytes) {
  return {.operation_id = "uploadRecord",
          .summary =
              "Upload a sleep-record file (HDF5): parsed in a child process and stored as the "
              "collector stores a dropped one. A watchdog uploads its own device's files only",
          .tag = "records",
          .action = "records.write",
          .params = {{"name", "query", "The file's name, kept with the record"}},
          .request_schema = json::object{{"type", "string"}, {"format", "binary"}},
          .request_content_type = "application/octet-stream",
          .responses = {{201, "The record", record_schema(false)},
                        problem_response(403,
                                         "A watchdog sent another device's file, or the "
                                         "caller is no enrolled watchdog"),
                        problem_response(409, "This file is stored already (names the record)"),
                        problem_response(413, "Larger than collector.max_upload_mb"),
                        problem_response(422, "Not a record, or its user is unknown: the reason")},
          .max_body_bytes = max_bytes};
}

net::RouteSpec list_spec() {
  auto params = page_params();
  params.push_back({"user", "query", "A username, or a user id"});
  params.push_back({"device", "query", "A device name"});
  params.push_back(time_spec("from", "Records starting at or after"));
  params.push_back(time_spec("to", "Records starting before"));
  params.push_back({"min_score", "query", "Sleep score at least", {{"type", "number"}}});
  params.push_back({"max_score", "query", "Sleep score at most", {{"type", "number"}}});
  return {.operation_id = "listRecords",
          .summary = "Sleep records, newest first",
          .tag = "records",
          .action = "records.read",
          .params = std::move(params),
          .responses = {{200, "A page of records", list_schema(record_schema(false))},
                        problem_response(422, "A query parameter is invalid (named)")}};
}

net::RouteSpec get_spec() {
  return {.operation_id = "getRecord",
          .summary = "One record: every field, every attribute, stage durations, channels",
          .tag = "records",
          .action = "records.read",
          .responses = {{200, "The record", record_schema(false)},
                        problem_response(404, "No such record")}};
}

net::RouteSpec remove_spec() {
  return {.operation_id = "deleteRecord",
          .summary = "Delete a record and its signals",
          .tag = "records",
          .action = "records.delete",
          .responses = {{204, "Deleted"}, problem_response(404, "No such record")}};
}

net::RouteSpec hypnogram_spec() {
  return {.operation_id = "getRecordHypnogram",
          .summary = "The record's hypnogram: a stage per 30 s epoch",
          .tag = "records",
          .action = "records.read",
          .responses = {{200, "The epochs", hypnogram_schema()},
                        problem_response(404, "No such record")}};
}

net::RouteSpec channels_spec() {
  return {.operation_id = "listRecordSignals",
          .summary = "The record's signal channels",
          .tag = "records",
          .action = "records.read",
          .responses = {{200, "The channels", {{"type", "array"}, {"items", channel_schema()}}},
                        problem_response(404, "No such record")}};
}

net::RouteSpec signal_spec() {
  const json::value integer = {{"type", "integer"}};
  const json::value sample = {{"type", json::array{"number", "null"}}};
  return {.operation_id = "getRecordSignal",
          .summary =
              "A channel's samples between from and to, downsampled for plotting: buckets of step "
              "samples, each with its minimum and maximum, so every spike shows",
          .tag = "records",
          .action = "records.read",
          .params = {time_spec("from", "From (default: the record's start)"),
                     time_spec("to", "To (default: the record's end)"),
                     {"max_points",
                      "query",
                      "At most this many buckets (1-20000, default 2000)",
                      {{"type", "integer"}}}},
          .responses = {{200, "The envelope",
                         all_required({{"type", "object"},
                                       {"properties",
                                        {{"record", {{"type", "integer"}}},
                                         {"channel", channel_schema()},
                                         {"from", {{"type", "string"}}},
                                         {"to", {{"type", "string"}}},
                                         {"first_sample", {{"type", "integer"}}},
                                         {"samples", {{"type", "integer"}}},
                                         {"step", {{"type", "integer"}}},
                                         {"points", {{"type", "integer"}}},
                                         {"at_ms", {{"type", "array"}, {"items", integer}}},
                                         {"min", {{"type", "array"}, {"items", sample}}},
                                         {"max", {{"type", "array"}, {"items", sample}}}}}})},
                        problem_response(404, "No such record or channel"),
                        problem_response(422, "A query parameter is invalid (named)")}};
}

net::RouteSpec of_user_spec() {
  return {.operation_id = "getUserSignal",
          .summary =
              "A user's records lying wholly inside [from, to], by start time, with their "
              "hypnograms (at most 1000; truncated says when there were more)",
          .tag = "records",
          .action = "records.read",
          .params = {time_spec("from", "Window start (default: the beginning)"),
                     time_spec("to", "Window end (default: no end)")},
          .responses = {
              {200, "The records",
               all_required({{"type", "object"},
                             {"properties",
                              {{"user", {{"type", "string"}}},
                               {"user_id", {{"type", "integer"}}},
                               {"records", {{"type", "array"}, {"items", record_schema(true)}}},
                               {"truncated", {{"type", "boolean"}}}}}})},
              problem_response(404, "No such user")}};
}

}  // namespace

void add_record_routes(net::Router& router, RecordDeps deps) {
  using net::http::verb;
  const int64_t max_bytes = deps.max_upload_bytes;
  auto h = std::make_shared<const RecordHandlers>(std::move(deps));
  const std::string one = "/api/v1/records/{id}";
  router.add(verb::post, "/api/v1/records", upload_spec(max_bytes),
             bind(h, &RecordHandlers::upload));
  router.add(verb::get, "/api/v1/records", list_spec(), bind(h, &RecordHandlers::list));
  router.add(verb::get, one, get_spec(), bind(h, &RecordHandlers::get));
  router.add(verb::delete_, one, remove_spec(), bind(h, &RecordHandlers::remove));
  router.add(verb::get, one + "/hypnogram", hypnogram_spec(), bind(h, &RecordHandlers::hypnogram));
  router.add(verb::get, one + "/signals", channels_spec(), bind(h, &RecordHandlers::channels));
  router.add(verb::get, one + "/signals/{channel}", signal_spec(),
             bind(h, &RecordHandlers::signal));
  router.add(verb::get, "/api/v1/signal/{user}", of_user_spec(), bind(h, &RecordHandlers::of_user));
}

}  // namespace vigil::api
