#include "fleet/rollout_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/ids.h"
#include "core/names.h"
#include "core/thread_name.h"
#include "fleet/commands.h"

namespace vigil::fleet {
namespace {

using store::Value;

constexpr size_t kInsertChunk = 200;  // rows per multi-row INSERT (≤ 2000 parameters)

std::string for_update(store::Dialect d) {
  return d == store::Dialect::kPostgres ? " FOR UPDATE" : "";
}

constexpr std::string_view kRolloutColumns =
    "id, spec, state, reason, created_at, created_by, updated_at";

Rollout rollout_at(const store::Rows& rows, size_t r) {
  Rollout out;
  out.id = rows.get_int(r, 0);
  out.spec_json = rows.get_text(r, 1);
  auto parsed = parse_rollout_spec(out.spec_json);
  if (parsed.spec) out.spec = std::move(*parsed.spec);
  out.state = rollout_state_from(rows.get_text(r, 2)).value_or(RolloutState::kAborted);
  out.reason = rows.get_text(r, 3);
  out.created_at = rows.get_text(r, 4);
  out.created_by = rows.get_int(r, 5);
  out.updated_at = rows.get_text(r, 6);
  return out;
}

Expected<Rollout> rollout_in(store::Session& s, int64_t id, std::string_view suffix = {}) {
  Value p(id);
  auto rows = s.query("SELECT " + std::string(kRolloutColumns) + " FROM rollouts WHERE id = $1" +
                          std::string(suffix),
                      std::span(&p, 1));
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return not_found("no rollout " + std::to_string(id));
  return rollout_at(*rows, 0);
}

Status add_history(store::Session& s, int64_t id, int64_t by_user, std::optional<RolloutState> from,
                   RolloutState to, std::string_view reason, std::string_view now) {
  std::vector<Value> p{id,
                       std::string(now),
                       by_user > 0 ? Value(by_user) : Value(std::monostate{}),
                       from ? Value(std::string(to_string(*from))) : Value(std::monostate{}),
                       std::string(to_string(to)),
                       std::string(reason)};
  return s
      .exec(
          "INSERT INTO rollout_history (rollout_id, at, by_user, from_state, to_state, "
          "reason) VALUES ($1, $2, $3, $4, $5, $6)",
          p)
      .status();
}

Status set_state(store::Session& s, int64_t id, RolloutState to, std::string_view reason,
                 std::string_view now) {
  std::vector<Value> p{std::string(to_string(to)), std::string(reason), std::string(now), id};
  return s.exec("UPDATE rollouts SET state = $1, reason = $2, updated_at = $3 WHERE id = $4", p)
      .status();
}

struct Selected {
  int64_t id = 0;
  std::string name;
  std::optional<ModelRef> desired;
  std::optional<ModelRef> previous;
  std::optional<ModelRef> running;
  std::string online_until;
};

Expected<std::vector<Selected>> select_devices(store::Session& s, const RolloutSelect& sel) {
  std::string sql =
      "SELECT d.id, d.name, d.model, d.model_version, d.previous_model, d.previous_version, "
      "d.running_model, d.running_version, d.online_until FROM devices d WHERE 1 = 1";
  std::vector<Value> p;
  auto bind = [&](Value v) {
    p.push_back(std::move(v));
    return "$" + std::to_string(p.size());
  };
  switch (sel.kind) {
    case RolloutSelect::Kind::kModel:
      sql += " AND lower(d.model) = " + bind(name_key(sel.model.name)) +
             " AND d.model_version = " + bind(sel.model.version);
      break;
    case RolloutSelect::Kind::kLabels:
      for (const auto& [k, v] : sel.labels) {
        sql += " AND EXISTS (SELECT 1 FROM device_labels l WHERE l.device_id = d.id AND l.key = " +
               bind(k) + " AND l.value = " + bind(v) + ")";
      }
      break;
    case RolloutSelect::Kind::kDevices: {
      sql += " AND lower(d.name) IN (";
      for (size_t i = 0; i < sel.devices.size(); ++i) {
        sql += (i ? ", " : "") + bind(name_key(sel.devices[i]));
      }
      sql += ")";
      break;
    }
    case RolloutSelect::Kind::kAll: break;
  }
  sql += " ORDER BY d.id";
  auto rows = s.query(sql, p);
  if (!rows.ok()) return rows.status();
  std::vector<Selected> out;
  out.reserve(rows->size());
  for (size_t r = 0; r < rows->size(); ++r) {
    out.push_back({rows->get_int(r, 0), rows->get_text(r, 1), model_at(*rows, r, 2),
                   model_at(*rows, r, 4), model_at(*rows, r, 6), rows->get_text(r, 8)});
  }
  if (sel.kind == RolloutSelect::Kind::kDevices) {
    std::set<std::string> found;
    for (const auto& d : out) found.insert(name_key(d.name));
    for (const auto& name : sel.devices) {
      if (!found.count(name_key(name))) return not_found("no device named " + name);
    }
  }
  return out;
}

std::optional<Clock::time_point> time_of(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return parse_timestamp(text);
}

}  // namespace

RolloutService::RolloutService(store::Database& db, DeviceHub& hub, MetricsRegistry& metrics,
                               Now now)
    : db_(db),
      hub_(hub),
      metrics_(metrics),
      now_(now ? std::move(now) : [] { return Clock::now(); }) {}

RolloutService::~RolloutService() { stop(); }

void RolloutService::start() {
  {
    std::lock_guard lock(mu_);
    if (driver_.joinable()) return;
    stopping_ = false;
    all_dirty_ = true;
  }
  driver_ = std::thread([this] { run(); });
}

void RolloutService::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (driver_.joinable()) driver_.join();
}

void RolloutService::wake(int64_t id) {
  {
    std::lock_guard lock(mu_);
    dirty_.insert(id);
  }
  cv_.notify_one();
}

void RolloutService::wake_all() {
  {
    std::lock_guard lock(mu_);
    all_dirty_ = true;
  }
  cv_.notify_one();
}

void RolloutService::run() {
  set_thread_name("vigil-rollouts");
  constexpr auto kGather = std::chrono::milliseconds(5);
  constexpr auto kMinQuiet = std::chrono::milliseconds(10);
  constexpr auto kMaxQuiet = std::chrono::milliseconds(200);
  Histogram& step_seconds = metrics_.histogram(
      "vigil_fleet_rollout_step_seconds",
      "One step of one rollout: its devices read, the planner's decision written", {});
  for (;;) {
    std::set<int64_t> ids;
    bool all = false;
    {
      std::unique_lock lock(mu_);
      for (;;) {
        if (stopping_) return;
        if (all_dirty_ || !dirty_.empty()) break;
        const auto now = now_();
        std::optional<Clock::time_point> next;
        for (const auto& [id, at] : wake_at_) {
          if (at <= now) dirty_.insert(id);
          if (!next || at < *next) next = at;
        }
        if (!dirty_.empty()) break;
        if (next) {
          cv_.wait_for(lock, *next - now);
        } else {
          cv_.wait(lock);
        }
      }
      // Let a burst of reports gather: one step then covers them all.
      cv_.wait_for(lock, kGather, [&] { return stopping_; });
      ids.swap(dirty_);
      all = std::exchange(all_dirty_, false);
      // A rollout in its quiet backoff waits for its time (its wake-up is kept).
      const auto steady_now = std::chrono::steady_clock::now();
      for (auto it = ids.begin(); it != ids.end();) {
        auto q = quiet_.find(*it);
        if (q != quiet_.end() && q->second.second > steady_now) {
          const auto at = now_() + (q->second.second - steady_now);
          auto w = wake_at_.find(*it);
          if (w == wake_at_.end() || w->second > at) wake_at_[*it] = at;
          it = ids.erase(it);
        } else {
          wake_at_.erase(*it);
          ++it;
        }
      }
    }
    if (all) {
      auto rows = db_.query(
          "SELECT r.id FROM rollouts r WHERE r.state = 'running' OR EXISTS (SELECT 1 FROM "
          "rollout_devices rd WHERE rd.rollout_id = r.id AND rd.state IN ('sent', "
          "'downloading', 'applied'))");
      if (rows.ok()) {
        for (size_t r = 0; r < rows->size(); ++r) ids.insert(rows->get_int(r, 0));
      } else {
        spdlog::warn("rollouts: listing live rollouts failed: {}", rows.status().to_string());
        std::lock_guard lock(mu_);
        wake_at_[0] = now_() + std::chrono::seconds(1);  // id 0: retry wake_all
      }
    }
    for (int64_t id : ids) {
      if (id == 0) {
        wake_all();
        continue;
      }
      const auto step_start = std::chrono::steady_clock::now();
      bool acted = false;
      Status s = step(id, &acted);
      const auto step_end = std::chrono::steady_clock::now();
      step_seconds.observe(std::chrono::duration<double>(step_end - step_start).count());
      if (acted || !s.ok()) {
        quiet_.erase(id);
      } else {
        auto& [backoff, not_before] = quiet_[id];
        backoff =
            std::clamp<std::chrono::steady_clock::duration>(2 * backoff, kMinQuiet, kMaxQuiet);
        not_before = step_end + backoff;
      }
      if (!s.ok() && s.code() != ErrorCode::kNotFound) {
        spdlog::warn("rollout {}: step failed: {}; trying again in 1 s", id, s.to_string());
        std::lock_guard lock(mu_);
        wake_at_[id] = now_() + std::chrono::seconds(1);
      }
    }
  }
}

// The model every device is sent (none for a rollback: each its own previous one). It must be
// stored; blank's is the stored blank model's newest version.
Expected<std::optional<ModelRef>> RolloutService::resolve_target(const RolloutSpec& spec) {
  std::optional<ModelRef> target;
  if (spec.action == RolloutAction::kUpdate) {
    if (!spec.target) return invalid_field("target", "required for update");
    auto o = hub_.offer(spec.target->name, spec.target->version);
    if (!o.ok()) return o.status();
    target = o->ref();
  } else if (spec.action == RolloutAction::kBlank) {
    auto o = hub_.offer("blank", std::nullopt);
    if (!o.ok()) return o.status();
    target = o->ref();
  }
  return target;
}

Expected<RolloutPreview> RolloutService::preview(const RolloutSpec& spec) {
  auto target = resolve_target(spec);
  if (!target.ok()) return target.status();
  const std::string now = format_rfc3339(now_());
  return store::read_returning<RolloutPreview>(
      db_, [&](store::Session& s) -> Expected<RolloutPreview> {
        auto devices = select_devices(s, spec.select);
        if (!devices.ok()) return devices.status();
        RolloutPreview p;
        p.target = *target;
        p.devices = static_cast<int64_t>(devices->size());
        for (const auto& d : *devices) {
          const std::optional<ModelRef>& t =
              spec.action == RolloutAction::kRollback ? d.previous : *target;
          const bool runs = t && d.running && name_key(t->name) == name_key(d.running->name) &&
                            t->version == d.running->version;
          if (!t || runs) ++p.skipped;
          if (!d.online_until.empty() && d.online_until > now) ++p.online;
          if (p.sample.size() < RolloutPreview::kSample) p.sample.push_back(d.name);
        }
        for (int w : assign_waves(devices->size(), spec.limits)) {
          if (w >= static_cast<int>(p.waves.size())) p.waves.resize(w + 1);
          ++p.waves[w];
        }
        return p;
      });
}

Expected<Rollout> RolloutService::create(const RolloutSpec& spec_in, int64_t by_user) {
  RolloutSpec spec = spec_in;
  auto resolved = resolve_target(spec);
  if (!resolved.ok()) return resolved.status();
  const std::optional<ModelRef> target = *resolved;
  if (spec.action == RolloutAction::kUpdate) spec.target = target;
  const std::string now = format_rfc3339(now_());
  const std::string spec_json = rollout_spec_json(spec);
  auto id = store::write_returning<int64_t>(db_, [&](store::Session& s) -> Expected<int64_t> {
    auto devices = select_devices(s, spec.select);
    if (!devices.ok()) return devices.status();
    std::vector<Value> p{spec_json,
                         std::string(to_string(spec.action)),
                         model_name_or_null(target),
                         model_version_or_null(target),
                         now,
                         by_user > 0 ? Value(by_user) : Value(std::monostate{})};
    auto rows = s.query(
        "INSERT INTO rollouts (spec, action, target_model, target_version, state, reason, "
        "created_at, created_by, updated_at) VALUES ($1, $2, $3, $4, 'running', '', $5, $6, $5) "
        "RETURNING id",
        p);
    if (!rows.ok()) return rows.status();
    const int64_t rid = rows->get_int(0, 0);
    VIGIL_RETURN_IF_ERROR(
        add_history(s, rid, by_user, std::nullopt, RolloutState::kRunning, "started", now));
    const auto waves = assign_waves(devices->size(), spec.limits);
    for (size_t at = 0; at < devices->size(); at += kInsertChunk) {
      const size_t n = std::min(kInsertChunk, devices->size() - at);
      std::string sql =
          "INSERT INTO rollout_devices (rollout_id, device_id, position, wave, state, "
          "target_model, target_version, from_model, from_version, updated_at) VALUES ";
      std::vector<Value> q;
      for (size_t i = 0; i < n; ++i) {
        const Selected& d = (*devices)[at + i];
        const std::optional<ModelRef> t =
            spec.action == RolloutAction::kRollback ? d.previous : target;
        const size_t base = q.size();
        q.insert(q.end(),
                 {rid, d.id, static_cast<int64_t>(at + i), static_cast<int64_t>(waves[at + i]),
                  model_name_or_null(t), model_version_or_null(t), model_name_or_null(d.desired),
                  model_version_or_null(d.desired), now});
        sql += i ? ", (" : "(";
        for (size_t k = 1; k <= 9; ++k) {
          if (k == 5) sql += "'pending', ";
          sql += "$" + std::to_string(base + k) + (k < 9 ? ", " : ")");
        }
      }
      VIGIL_RETURN_IF_ERROR(s.exec(sql, q).status());
    }
    return rid;
  });
  if (!id.ok()) return id.status();
  metrics_.counter("vigil_fleet_rollouts_started_total", "Rollouts started").inc();
  count_transition(RolloutState::kRunning);
  wake(*id);
  auto r = get(*id);
  if (r.ok() && on_change_) on_change_(*r);
  return r;
}

Expected<Rollout> RolloutService::get(int64_t id) {
  return store::read_returning<Rollout>(db_, [&](store::Session& s) -> Expected<Rollout> {
    auto r = rollout_in(s, id);
    if (!r.ok()) return r.status();
    Value p(id);
    auto counts =
        s.query("SELECT state, COUNT(*) FROM rollout_devices WHERE rollout_id = $1 GROUP BY state",
                std::span(&p, 1));
    if (!counts.ok()) return counts.status();
    for (size_t i = 0; i < counts->size(); ++i) {
      r->counts[counts->get_text(i, 0)] = counts->get_int(i, 1);
    }
    auto h = s.query(
        "SELECT at, by_user, from_state, to_state, reason FROM rollout_history WHERE "
        "rollout_id = $1 ORDER BY id",
        std::span(&p, 1));
    if (!h.ok()) return h.status();
    for (size_t i = 0; i < h->size(); ++i) {
      r->history.push_back({h->get_text(i, 0), h->get_int(i, 1), h->get_text(i, 2),
                            h->get_text(i, 3), h->get_text(i, 4)});
    }
    return r;
  });
}

Expected<std::vector<Rollout>> RolloutService::list(const RolloutFilter& f) {
  if (f.limit < 1 || f.limit > 1000) return invalid_field("limit", "must be 1-1000");
  std::string sql = "SELECT " + std::string(kRolloutColumns) + " FROM rollouts WHERE 1 = 1";
  std::vector<Value> p;
  if (f.before_id > 0) {
    p.emplace_back(f.before_id);
    sql += " AND id < $" + std::to_string(p.size());
  }
  if (f.state) {
    p.emplace_back(std::string(to_string(*f.state)));
    sql += " AND state = $" + std::to_string(p.size());
  }
  p.emplace_back(int64_t{f.limit});
  sql += " ORDER BY id DESC LIMIT $" + std::to_string(p.size());
  return store::read_returning<std::vector<Rollout>>(
      db_, [&](store::Session& s) -> Expected<std::vector<Rollout>> {
        auto rows = s.query(sql, p);
        if (!rows.ok()) return rows.status();
        std::vector<Rollout> out;
        for (size_t r = 0; r < rows->size(); ++r) out.push_back(rollout_at(*rows, r));
        if (out.empty()) return out;
        // The page's counts in one query over its id range (ids of other rollouts in the range,
        // left out by the state filter, are counted and dropped).
        std::vector<Value> range{out.back().id, out.front().id};
        auto counts = s.query(
            "SELECT rollout_id, state, COUNT(*) FROM rollout_devices WHERE rollout_id BETWEEN $1 "
            "AND $2 GROUP BY rollout_id, state",
            range);
        if (!counts.ok()) return counts.status();
        std::map<int64_t, Rollout*> by_id;
        for (auto& r : out) by_id[r.id] = &r;
        for (size_t i = 0; i < counts->size(); ++i) {
          auto it = by_id.find(counts->get_int(i, 0));
          if (it != by_id.end()) it->second->counts[counts->get_text(i, 1)] = counts->get_int(i, 2);
        }
        return out;
      });
}

Expected<std::vector<RolloutDevice>> RolloutService::devices(int64_t id,
                                                             std::optional<DeviceState> state,
                                                             int limit, int after_position) {
  if (limit < 1 || limit > 1000) return invalid_field("limit", "must be 1-1000");
  return store::read_returning<std::vector<RolloutDevice>>(
      db_, [&](store::Session& s) -> Expected<std::vector<RolloutDevice>> {
        auto r = rollout_in(s, id);
        if (!r.ok()) return r.status();
        std::vector<Value> p{id, int64_t{after_position}};
        std::string sql =
            "SELECT rd.device_id, d.name, rd.position, rd.wave, rd.state, rd.target_model, "
            "rd.target_version, rd.from_model, rd.from_version, rd.command_id, rd.sent_at, "
            "rd.switched_at, rd.reason, rd.updated_at FROM rollout_devices rd JOIN devices d ON "
            "d.id = rd.device_id WHERE rd.rollout_id = $1 AND rd.position > $2";
        if (state) {
          p.emplace_back(std::string(to_string(*state)));
          sql += " AND rd.state = $3";
        }
        p.emplace_back(int64_t{limit});
        sql += " ORDER BY rd.position LIMIT $" + std::to_string(p.size());
        auto rows = s.query(sql, p);
        if (!rows.ok()) return rows.status();
        std::vector<RolloutDevice> out;
        for (size_t i = 0; i < rows->size(); ++i) {
          out.push_back({.device_id = rows->get_int(i, 0),
                         .device = rows->get_text(i, 1),
                         .position = static_cast<int>(rows->get_int(i, 2)),
                         .wave = static_cast<int>(rows->get_int(i, 3)),
                         .state = rows->get_text(i, 4),
                         .target = model_at(*rows, i, 5),
                         .from = model_at(*rows, i, 7),
                         .command_id = rows->get_int(i, 9),
                         .sent_at = rows->get_text(i, 10),
                         .switched_at = rows->get_text(i, 11),
                         .reason = rows->get_text(i, 12),
                         .updated_at = rows->get_text(i, 13)});
        }
        return out;
      });
}

Expected<Rollout> RolloutService::pause(int64_t id, int64_t by_user, std::string reason) {
  return transition(id, by_user, std::move(reason), RolloutState::kPaused);
}
Expected<Rollout> RolloutService::resume(int64_t id, int64_t by_user, std::string reason) {
  return transition(id, by_user, std::move(reason), RolloutState::kRunning);
}
Expected<Rollout> RolloutService::abort(int64_t id, int64_t by_user, std::string reason) {
  return transition(id, by_user, std::move(reason), RolloutState::kAborted);
}

Expected<Rollout> RolloutService::transition(int64_t id, int64_t by_user, std::string reason,
                                             RolloutState to) {
  const std::string now = format_rfc3339(now_());
  VIGIL_RETURN_IF_ERROR(db_.write([&](store::Session& s) -> Status {
    auto r = rollout_in(s, id, for_update(db_.dialect()));
    if (!r.ok()) return r.status();
    const RolloutState from = r->state;
    const bool allowed = (to == RolloutState::kPaused && from == RolloutState::kRunning) ||
                         (to == RolloutState::kRunning && from == RolloutState::kPaused) ||
                         (to == RolloutState::kAborted &&
                          (from == RolloutState::kRunning || from == RolloutState::kPaused ||
                           from == RolloutState::kHalted));
    if (!allowed) {
      return conflict("the rollout is " + std::string(to_string(from)) +
                      (to == RolloutState::kRunning ? "; only a paused rollout resumes" : ""));
    }
    VIGIL_RETURN_IF_ERROR(set_state(s, id, to, reason, now));
    return add_history(s, id, by_user, from, to, reason, now);
  }));
  count_transition(to);
  wake(id);
  auto r = get(id);
  if (r.ok() && on_change_) on_change_(*r);
  return r;
}

// Commands a step writes and sends at a time (see below).
constexpr size_t kSendChunk = 500;

Status RolloutService::step(int64_t id, bool* acted) {
  const Clock::time_point now_tp = now_();
  const std::string now = format_rfc3339(now_tp);
  std::vector<Command> issued;
  std::optional<Clock::time_point> wake_at;
  std::optional<RolloutState> changed_state;
  bool planned_changes = false;
  std::vector<std::pair<int64_t, std::string>> later;  // sends after the first chunk: id, reason
  VIGIL_RETURN_IF_ERROR(db_.write([&](store::Session& s) -> Status {
    planned_changes = false;
    later.clear();
    issued.clear();
    wake_at.reset();
    changed_state.reset();
    auto r = rollout_in(s, id, for_update(db_.dialect()));
    if (!r.ok()) return r.status();
    if (r->state == RolloutState::kCompleted) return {};
    const RolloutSpec& spec = r->spec;
    Value p(id);
    auto rows = s.query(
        "SELECT rd.device_id, rd.state, rd.wave, rd.target_model, rd.target_version, "
        "rd.from_model, rd.from_version, rd.sent_at, d.online_until, d.running_model, "
        "d.running_version, d.model, d.model_version, rd.switched_at FROM rollout_devices rd "
        "JOIN devices d ON d.id = rd.device_id WHERE rd.rollout_id = $1 ORDER BY rd.position",
        std::span(&p, 1));
    if (!rows.ok()) return rows.status();
    std::map<int64_t, Labels> labels;
    if (spec.select.kind == RolloutSelect::Kind::kLabels) {
      auto l = s.query(
          "SELECT l.device_id, l.key, l.value FROM device_labels l JOIN rollout_devices rd ON "
          "rd.device_id = l.device_id WHERE rd.rollout_id = $1 AND rd.state = 'pending'",
          std::span(&p, 1));
      if (!l.ok()) return l.status();
      for (size_t i = 0; i < l->size(); ++i) {
        labels[l->get_int(i, 0)][l->get_text(i, 1)] = l->get_text(i, 2);
      }
    }
    std::set<int64_t> alarmed;
    if (spec.limits.max_alarm_percent > 0) {
      auto a = s.query(
          "SELECT DISTINCT a.device_id FROM alarms a JOIN rollout_devices rd ON rd.device_id = "
          "a.device_id WHERE rd.rollout_id = $1 AND rd.switched_at IS NOT NULL AND a.last_at >= "
          "rd.switched_at AND a.severity_rank >= 3 AND lower(a.model) = lower(rd.target_model) "
          "AND a.model_version = rd.target_version",
          std::span(&p, 1));
      if (!a.ok()) return a.status();
      for (size_t i = 0; i < a->size(); ++i) alarmed.insert(a->get_int(i, 0));
    }
    std::vector<DeviceView> views;
    std::map<int64_t, std::pair<std::optional<ModelRef>, std::optional<ModelRef>>> models;
    views.reserve(rows->size());
    for (size_t i = 0; i < rows->size(); ++i) {
      DeviceView v;
      v.id = rows->get_int(i, 0);
      v.state = device_state_from(rows->get_text(i, 1)).value_or(DeviceState::kFailed);
      v.wave = static_cast<int>(rows->get_int(i, 2));
      auto target = model_at(*rows, i, 3);
      auto from = model_at(*rows, i, 5);
      v.sent_at = time_of(rows->get_text(i, 7));
      const std::string until = rows->get_text(i, 8);
      v.online = !until.empty() && until > now;
      auto running = model_at(*rows, i, 9);
      auto desired = model_at(*rows, i, 11);
      v.has_target = target.has_value();
      v.runs_target = target && running && name_key(running->name) == name_key(target->name) &&
                      running->version == target->version;
      if (v.state == DeviceState::kPending) {
        v.selected = spec.select.kind == RolloutSelect::Kind::kLabels
                         ? selects(spec.select, desired, labels[v.id])
                         : selects(spec.select, desired, {});
      }
      v.alarmed = alarmed.count(v.id) > 0;
      models[v.id] = {target, from};
      views.push_back(v);
    }
    RolloutPlanner planner(spec.limits);
    Decision d = planner.plan(r->state, views, now_tp);
    wake_at = d.wake_at;
    if (d.empty()) return {};
    planned_changes = true;
    std::set<int64_t> to_send(d.send.begin(), d.send.end());
    size_t sends = 0;
    for (const auto& change : d.devices) {
      const bool sent = change.to == DeviceState::kSent;
      int64_t command_id = 0;
      if (sent && to_send.count(change.id) && ++sends > kSendChunk) {
        later.emplace_back(change.id, change.reason);
        continue;
      }
      if (sent && to_send.count(change.id)) {
        auto c = issue_command(s, db_.dialect(),
                               {.device_id = change.id,
                                .action = spec.action,
                                .model = *models[change.id].first,
                                .rollout_id = id,
                                .confirm_s = spec.limits.confirm.count()},
                               now);
        if (!c.ok()) return c.status();
        command_id = c->id;
        issued.push_back(std::move(*c));
      }
      std::vector<Value> u{std::string(to_string(change.to)),
                           change.reason,
                           now,
                           sent ? Value(now) : Value(std::monostate{}),
                           command_id ? Value(command_id) : Value(std::monostate{}),
                           id,
                           change.id};
      VIGIL_RETURN_IF_ERROR(
          s.exec("UPDATE rollout_devices SET state = $1, reason = $2, updated_at = $3, "
                 "sent_at = COALESCE($4, sent_at), command_id = COALESCE($5, command_id) WHERE "
                 "rollout_id = $6 AND device_id = $7",
                 u)
              .status());
    }
    for (int64_t device_id : d.roll_back) {
      const auto& from = models[device_id].second;
      if (!from) continue;
      auto c = issue_command(s, db_.dialect(),
                             {.device_id = device_id,
                              .action = RolloutAction::kRollback,
                              .model = *from,
                              .rollout_id = id,
                              .confirm_s = 0},
                             now);
      if (!c.ok()) return c.status();
      issued.push_back(std::move(*c));
    }
    if (d.rollout) {
      VIGIL_RETURN_IF_ERROR(set_state(s, id, *d.rollout, d.reason, now));
      VIGIL_RETURN_IF_ERROR(add_history(s, id, 0, r->state, *d.rollout,
                                        d.reason.empty() ? "every device finished" : d.reason,
                                        now));
      changed_state = d.rollout;
    }
    return {};
  }));
  if (acted) *acted = planned_changes;
  for (const auto& c : issued) hub_.deliver(c);
  // A large wave goes out a chunk at a time, each written before it is sent, so the first
  // devices start while the rest are written. What is not sent (a pause or abort meanwhile, an
  // error) stays pending for the next step.
  for (size_t from = 0; from < later.size(); from += kSendChunk) {
    std::vector<Command> chunk;
    Status st = db_.write([&](store::Session& s) -> Status {
      chunk.clear();
      auto r = rollout_in(s, id, for_update(db_.dialect()));
      if (!r.ok()) return r.status();
      if (r->state != RolloutState::kRunning) return {};
      const size_t to = std::min(later.size(), from + kSendChunk);
      for (size_t k = from; k < to; ++k) {
        const auto& [device_id, reason] = later[k];
        std::vector<Value> key{id, device_id};
        auto row = s.query(
            "SELECT target_model, target_version FROM rollout_devices WHERE rollout_id = $1 AND "
            "device_id = $2 AND state = 'pending'",
            key);
        if (!row.ok()) return row.status();
        auto target = row->empty() ? std::nullopt : model_at(*row, 0, 0);
        if (!target) continue;
        auto c = issue_command(s, db_.dialect(),
                               {.device_id = device_id,
                                .action = r->spec.action,
                                .model = *target,
                                .rollout_id = id,
                                .confirm_s = r->spec.limits.confirm.count()},
                               now);
        if (!c.ok()) return c.status();
        std::vector<Value> u{reason, now, c->id, id, device_id};
        VIGIL_RETURN_IF_ERROR(
            s.exec("UPDATE rollout_devices SET state = 'sent', reason = $1, updated_at = $2, "
                   "sent_at = $2, command_id = $3 WHERE rollout_id = $4 AND device_id = $5",
                   u)
                .status());
        chunk.push_back(std::move(*c));
      }
      return {};
    });
    if (!st.ok()) {
      spdlog::warn("rollout {}: sending a chunk failed: {}; the next step sends it", id,
                   st.to_string());
      break;
    }
    if (chunk.empty()) break;  // no longer running
    for (const auto& c : chunk) hub_.deliver(c);
  }
  {
    std::lock_guard lock(mu_);
    if (wake_at) {
      wake_at_[id] = *wake_at;
    } else {
      wake_at_.erase(id);
    }
  }
  if (changed_state) count_transition(*changed_state);
  // Listeners (the events WebSocket's `rollouts` topic) hear of every step that changed
  // something, so a console shows the counts move, not only the rollout's state.
  if ((changed_state || planned_changes) && on_change_) {
    auto r = get(id);
    if (r.ok()) on_change_(*r);
  }
  return {};
}

void RolloutService::count_transition(RolloutState to) {
  metrics_
      .counter("vigil_fleet_rollout_transitions_total",
               "Rollouts that moved into a state on this node (running: started or resumed)",
               {{"state", std::string(to_string(to))}})
      .inc();
}

}  // namespace vigil::fleet
