#include "telemetry/baseline_service.h"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <charconv>
#include <cmath>
#include <limits>

#include "core/embedded.h"
#include "core/json_text.h"
#include "core/strings.h"
#include "core/thread_name.h"

namespace vigil::telemetry {
namespace json = boost::json;

namespace {

constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

// A seed file: a comment line (#…), then one reading per line.
std::vector<double> seed_values(std::string_view text) {
  std::vector<double> out;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty() || line.front() == '#') continue;
    double v = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
    if (ec == std::errc() && p == line.data() + line.size() && std::isfinite(v)) out.push_back(v);
  }
  return out;
}

json::object verdict_json(const std::string& name, const detect::Verdict& v) {
  json::object o{{"baseline", name},
                 {"fits", v.fits},
                 {"max_percent", std::round(v.max_percent * 10) / 10},
                 {"distance", std::round(v.distance * 1000) / 1000}};
  if (!v.fits) o["why"] = v.why;
  return o;
}

}  // namespace

BaselineService::BaselineService(TelemetryService& telemetry, BaselineStore& store,
                                 BaselineOptions options)
    : telemetry_(telemetry), store_(store), options_(options) {}

BaselineService::~BaselineService() { stop(); }

Expected<Baseline> BaselineService::upload(const std::string& name, std::vector<double> values,
                                           int64_t by_user) {
  return store_.create(
      {.name = name, .source = "upload", .values = std::move(values), .created_by = by_user});
}

Expected<Baseline> BaselineService::cut(const CutRequest& r) {
  if (r.to_ms < r.from_ms) return invalid_field("to", "must not be before from");
  auto sensor = telemetry_.get(r.sensor);
  if (sensor.status().code() == ErrorCode::kNotFound) {
    return invalid_field("sensor", "no sensor named " + r.sensor);
  }
  if (!sensor.ok()) return sensor.status();
  auto points = telemetry_.series().read(sensor->id, r.from_ms, r.to_ms);
  if (!points.ok()) return points.status();
  if (points->size() > kMaxBaselinePoints) {
    return invalid_field("to", "the range holds " + std::to_string(points->size()) +
                                   " points, more than a baseline's " +
                                   std::to_string(kMaxBaselinePoints));
  }
  std::vector<double> values;
  values.reserve(points->size());
  for (const Point& p : *points) {
    if (std::isfinite(p.value)) values.push_back(p.value);
  }
  int removed = 0;
  if (r.clean) {
    detect::Cleaned c = detect::clean(values, TelemetryService::level_settings(sensor->detector),
                                      options_.discords);
    values = std::move(c.values);
    removed = c.removed;
  }
  VIGIL_RETURN_IF_ERROR(BaselineStore::check_values(values, "from"));
  return store_.create({.name = r.name,
                        .source = "sensor",
                        .sensor = sensor->name,
                        .from_ms = points->front().at_ms,
                        .to_ms = points->back().at_ms,
                        .removed = removed,
                        .values = std::move(values),
                        .created_by = r.by_user});
}

Expected<int> BaselineService::seed() {
  int added = 0;
  for (const embedded::File& f : embedded::baseline_seeds()) {
    std::vector<double> values = seed_values(f.data);
    detect::Cleaned c =
        detect::clean(values, TelemetryService::level_settings({}), options_.discords);
    auto created = store_.create_if_absent({.name = std::string(f.path),
                                            .source = "seed",
                                            .removed = c.removed,
                                            .values = std::move(c.values)});
    if (!created.ok()) return created.status();
    added += *created ? 1 : 0;
  }
  return added;
}

Expected<BaselineService::SensorView> BaselineService::of(std::string_view name,
                                                          int history_limit) {
  auto sensor = telemetry_.get(name);
  if (!sensor.ok()) return sensor.status();
  SensorView view{*sensor, {}, {}};
  auto current = store_.current(sensor->id, false);
  if (!current.ok()) return current.status();
  view.current = std::move(*current);
  auto history = store_.history(sensor->id, history_limit);
  if (!history.ok()) return history.status();
  view.history = std::move(*history);
  return view;
}

Expected<SensorBaseline> BaselineService::record(const Sensor& sensor, SensorBaseline row) {
  auto stored = store_.set_for(sensor.id, row);
  if (!stored.ok()) return stored.status();
  if (telemetry_.changed) telemetry_.changed(sensor.id);
  if (noted) noted(sensor, *stored);
  return stored;
}

Expected<SensorBaseline> BaselineService::set(std::string_view name, std::string_view baseline,
                                              int64_t by_user) {
  auto sensor = telemetry_.get(name);
  if (!sensor.ok()) return sensor.status();
  auto b = store_.get(baseline, true);
  if (b.status().code() == ErrorCode::kNotFound) {
    return invalid_field("baseline", "no baseline named " + std::string(baseline));
  }
  if (!b.ok()) return b.status();
  return record(*sensor, {.action = "set",
                          .baseline_id = b->id,
                          .baseline = b->name,
                          .by_user = by_user,
                          .values = std::move(b->values)});
}

Expected<std::vector<double>> BaselineService::cleaned_history(const Sensor& sensor,
                                                               int64_t after_ms, int& removed,
                                                               int64_t& last_ms) {
  auto points = telemetry_.series().last(sensor.id, kMaxTime, options_.history_points);
  if (!points.ok()) return points.status();
  std::vector<double> values;
  last_ms = kMinTime;
  for (const Point& p : *points) {
    if (p.at_ms <= after_ms || !std::isfinite(p.value)) continue;
    values.push_back(p.value);
    last_ms = p.at_ms;
  }
  const detect::LevelSettings settings = TelemetryService::level_settings(sensor.detector);
  const size_t needed = static_cast<size_t>(2 * settings.window);
  if (values.size() < needed) {
    return conflict("sensor " + sensor.name + " has " + std::to_string(values.size()) +
                    " new points of history, fewer than the " + std::to_string(needed) +
                    " (two windows) it takes");
  }
  detect::Cleaned c = detect::clean(values, settings, options_.discords);
  removed = c.removed;
  return std::move(c.values);
}

Expected<BaselineService::Selected> BaselineService::select(std::string_view name,
                                                            int64_t by_user) {
  auto sensor = telemetry_.get(name);
  if (!sensor.ok()) return sensor.status();
  Selected out;
  int64_t last_ms = 0;
  auto history = cleaned_history(*sensor, kMinTime, out.removed, last_ms);
  if (!history.ok()) return history.status();
  out.history_points = history->size();
  auto library = store_.all(options_.max_library);
  if (!library.ok()) return library.status();
  if (library->empty()) return conflict("the baseline library is empty");
  std::vector<detect::Candidate> candidates;
  for (const Baseline& b : *library) candidates.push_back({b.values});
  const detect::Selection s =
      detect::select(*history, candidates, TelemetryService::level_settings(sensor->detector));
  json::array verdicts;
  for (size_t i = 0; i < library->size(); ++i) {
    out.candidates.push_back({(*library)[i].name, s.verdicts[i]});
    verdicts.push_back(verdict_json((*library)[i].name, s.verdicts[i]));
  }
  if (!s.best) return out;
  Baseline& best = (*library)[*s.best];
  auto chosen = record(
      *sensor, {.action = "select",
                .baseline_id = best.id,
                .baseline = best.name,
                .by_user = by_user,
                .values = std::move(best.values),
                .details = json::serialize(json::object{{"history_points", out.history_points},
                                                        {"removed", out.removed},
                                                        {"candidates", std::move(verdicts)}})});
  if (!chosen.ok()) return chosen.status();
  out.chosen = std::move(*chosen);
  return out;
}

Expected<SensorBaseline> BaselineService::augment(std::string_view name, int64_t by_user) {
  auto sensor = telemetry_.get(name);
  if (!sensor.ok()) return sensor.status();
  auto current = store_.current(sensor->id, true);
  if (!current.ok()) return current.status();
  // Only history not added before: the last augmentation says up to where it went.
  int64_t after = kMinTime;
  if (*current) {
    boost::system::error_code ec;
    json::value d = parse_json((*current)->details, ec);
    if (!ec && d.is_object()) {
      if (const json::value* to = d.as_object().if_contains("history_to_ms");
          to && to->is_int64()) {
        after = to->as_int64();
      }
    }
  }
  int removed = 0;
  int64_t last_ms = 0;
  auto history = cleaned_history(*sensor, after, removed, last_ms);
  if (!history.ok()) return history.status();
  std::vector<double> base = *current ? std::move((*current)->values) : std::vector<double>();
  const size_t added = history->size();
  return record(*sensor,
                {.action = "augment",
                 .baseline_id = *current ? (*current)->baseline_id : 0,
                 .baseline = *current ? (*current)->baseline : std::string(),
                 .by_user = by_user,
                 .values = detect::augment(base, *history, kMaxBaselinePoints),
                 .details = json::serialize(json::object{
                     {"added", added}, {"removed", removed}, {"history_to_ms", last_ms}})});
}

void BaselineService::run_schedule(bool selection, bool augmentation) {
  int64_t after_id = 0;
  for (;;) {
    auto page = telemetry_.list({.limit = 500, .after_id = after_id});
    if (!page.ok()) {
      spdlog::warn("baselines: listing sensors failed: {}", page.status().to_string());
      return;
    }
    if (page->empty()) return;
    for (const Sensor& s : *page) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      // Too little history, or a sensor gone meanwhile, is no failure of the schedule.
      auto noted_failure = [&](const Status& st, const char* what) {
        if (!st.ok() && st.code() != ErrorCode::kConflict && st.code() != ErrorCode::kNotFound) {
          spdlog::warn("baselines: {} sensor {} failed: {}", what, s.name, st.to_string());
        }
      };
      if (selection) noted_failure(select(s.name, 0).status(), "selecting for");
      if (augmentation) noted_failure(augment(s.name, 0).status(), "augmenting");
    }
    after_id = page->back().id;
  }
}

void BaselineService::start() {
  using namespace std::chrono;
  if (options_.select_every.count() <= 0 && options_.augment_every.count() <= 0) return;
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    set_thread_name("vigil-baselines");
    lower_thread_priority(10);
    const auto now = steady_clock::now();
    auto next_select = options_.select_every.count() > 0 ? now + options_.select_every
                                                         : steady_clock::time_point::max();
    auto next_augment = options_.augment_every.count() > 0 ? now + options_.augment_every
                                                           : steady_clock::time_point::max();
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait_until(lock, std::min(next_select, next_augment), [this] { return stopping_; });
        if (stopping_) return;
      }
      const auto at = steady_clock::now();
      const bool selection = at >= next_select, augmentation = at >= next_augment;
      if (selection) next_select = at + options_.select_every;
      if (augmentation) next_augment = at + options_.augment_every;
      run_schedule(selection, augmentation);
    }
  });
}

void BaselineService::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace vigil::telemetry
