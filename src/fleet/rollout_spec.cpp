#include "fleet/rollout_spec.h"

#include <boost/json.hpp>

#include "core/json_text.h"
#include "core/names.h"

namespace vigil::fleet {
namespace {

namespace json = boost::json;

struct Limit {
  const char* field;
  int lo;
  int hi;
};

std::optional<ModelRef> read_model(const json::object& o, const char* field,
                                   ParsedRolloutSpec& out) {
  auto m = o.find("model");
  auto v = o.find("version");
  std::string prefix = std::string(field) + ".";
  bool ok = true;
  if (m == o.end() || !m->value().is_string() || name_error(m->value().get_string())) {
    out.errors.emplace_back(prefix + "model", "must be a model name (1-64 of [A-Za-z0-9._-])");
    ok = false;
  }
  if (v == o.end() || !v->value().is_int64() || v->value().get_int64() < 1) {
    out.errors.emplace_back(prefix + "version", "must be a version number from 1");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return ModelRef{std::string(m->value().get_string()), v->value().get_int64()};
}

void read_select(const json::value* v, ParsedRolloutSpec& out, RolloutSelect& sel) {
  if (!v || !v->is_object() || v->get_object().size() == 0) {
    out.errors.emplace_back("select",
                            "required: {model, version}, {devices: [...]}, {labels: {...}} or "
                            "{all: true}");
    return;
  }
  const json::object& o = v->get_object();
  if (o.contains("model") || o.contains("version")) {
    sel.kind = RolloutSelect::Kind::kModel;
    if (auto m = read_model(o, "select", out)) sel.model = *m;
    if (o.size() != 2) out.errors.emplace_back("select", "model and version, nothing else");
  } else if (auto d = o.find("devices"); d != o.end()) {
    sel.kind = RolloutSelect::Kind::kDevices;
    if (!d->value().is_array() || d->value().get_array().empty() ||
        d->value().get_array().size() > kMaxRolloutDeviceNames) {
      out.errors.emplace_back("select.devices", "must be a list of 1-10000 device names");
      return;
    }
    for (const auto& name : d->value().get_array()) {
      if (!name.is_string() || name_error(name.get_string())) {
        out.errors.emplace_back("select.devices", "every entry must be a device name");
        return;
      }
      sel.devices.emplace_back(name.get_string());
    }
    if (o.size() != 1) out.errors.emplace_back("select", "devices, nothing else");
  } else if (auto l = o.find("labels"); l != o.end()) {
    sel.kind = RolloutSelect::Kind::kLabels;
    if (!l->value().is_object() || l->value().get_object().empty()) {
      out.errors.emplace_back("select.labels", "must be an object of key: value");
      return;
    }
    for (const auto& [k, val] : l->value().get_object()) {
      if (!val.is_string()) {
        out.errors.emplace_back("select.labels", "values must be strings");
        return;
      }
      sel.labels[std::string(k)] = std::string(val.get_string());
    }
    if (Status s = DeviceStore::validate_labels(sel.labels); !s.ok()) {
      out.errors.emplace_back("select.labels", s.message());
    }
    if (o.size() != 1) out.errors.emplace_back("select", "labels, nothing else");
  } else if (auto a = o.find("all"); a != o.end()) {
    sel.kind = RolloutSelect::Kind::kAll;
    if (!a->value().is_bool() || !a->value().get_bool() || o.size() != 1) {
      out.errors.emplace_back("select.all", "must be true, alone");
    }
  } else {
    out.errors.emplace_back("select", "must hold model and version, devices, labels or all");
  }
}

}  // namespace

ParsedRolloutSpec parse_rollout_spec(std::string_view body) {
  ParsedRolloutSpec out;
  json::parse_options options;
  options.max_depth = 8;
  boost::system::error_code ec;
  json::value v = parse_json(body, ec, options);
  if (ec || !v.is_object()) {
    out.malformed = ec ? "not JSON: " + ec.message() : "the body must be a JSON object";
    return out;
  }
  const json::object& o = v.get_object();
  static const char* const kKnown[] = {"select",
                                       "action",
                                       "target",
                                       "canary_percent",
                                       "batch_size",
                                       "rate_per_minute",
                                       "max_failure_percent",
                                       "min_sample",
                                       "max_alarm_percent",
                                       "device_timeout_s",
                                       "confirm_s",
                                       "auto_rollback"};
  for (const auto& [k, val] : o) {
    bool known = false;
    for (const char* name : kKnown) known = known || k == name;
    if (!known) out.errors.emplace_back(std::string(k), "unknown field");
  }
  RolloutSpec spec;
  auto sel = o.find("select");
  read_select(sel == o.end() ? nullptr : &sel->value(), out, spec.select);

  auto action = o.find("action");
  std::optional<RolloutAction> a;
  if (action != o.end() && action->value().is_string()) {
    a = rollout_action_from(action->value().get_string());
  }
  if (!a) {
    out.errors.emplace_back("action", "must be update, rollback or blank");
  } else {
    spec.action = *a;
  }
  auto target = o.find("target");
  const bool has_target = target != o.end() && !target->value().is_null();
  if (a == RolloutAction::kUpdate) {
    if (!has_target || !target->value().is_object()) {
      out.errors.emplace_back("target", "required for update: {model, version}");
    } else {
      spec.target = read_model(target->value().get_object(), "target", out);
    }
  } else if (a && has_target) {
    out.errors.emplace_back("target", "only for update (rollback and blank know theirs)");
  }

  auto int_field = [&](const Limit& l, int& into) {
    auto it = o.find(l.field);
    if (it == o.end()) return;
    if (!it->value().is_int64() || it->value().get_int64() < l.lo ||
        it->value().get_int64() > l.hi) {
      out.errors.emplace_back(l.field, "must be an integer from " + std::to_string(l.lo) + " to " +
                                           std::to_string(l.hi));
      return;
    }
    into = static_cast<int>(it->value().get_int64());
  };
  RolloutLimits& lim = spec.limits;
  int timeout = static_cast<int>(lim.device_timeout.count());
  int confirm = static_cast<int>(lim.confirm.count());
  int_field({"canary_percent", 0, 100}, lim.canary_percent);
  int_field({"batch_size", 1, 100000}, lim.batch_size);
  int_field({"rate_per_minute", 0, 1000000}, lim.rate_per_minute);
  int_field({"max_failure_percent", 0, 100}, lim.max_failure_percent);
  int_field({"min_sample", 1, 100000}, lim.min_sample);
  int_field({"max_alarm_percent", 0, 100}, lim.max_alarm_percent);
  int_field({"device_timeout_s", 1, 7 * 24 * 3600}, timeout);
  int_field({"confirm_s", 0, 24 * 3600}, confirm);
  lim.device_timeout = std::chrono::seconds(timeout);
  lim.confirm = std::chrono::seconds(confirm);
  if (auto ar = o.find("auto_rollback"); ar != o.end()) {
    if (!ar->value().is_bool()) {
      out.errors.emplace_back("auto_rollback", "must be true or false");
    } else {
      lim.auto_rollback = ar->value().get_bool();
    }
  }
  if (confirm >= timeout) {
    out.errors.emplace_back("confirm_s", "must be shorter than device_timeout_s");
  }
  if (out.errors.empty()) out.spec = std::move(spec);
  return out;
}

std::string rollout_spec_json(const RolloutSpec& spec) {
  json::object select;
  switch (spec.select.kind) {
    case RolloutSelect::Kind::kModel:
      select = {{"model", spec.select.model.name}, {"version", spec.select.model.version}};
      break;
    case RolloutSelect::Kind::kDevices: {
      json::array names;
      for (const auto& n : spec.select.devices) names.emplace_back(n);
      select = {{"devices", std::move(names)}};
      break;
    }
    case RolloutSelect::Kind::kLabels: {
      json::object labels;
      for (const auto& [k, v] : spec.select.labels) labels[k] = v;
      select = {{"labels", std::move(labels)}};
      break;
    }
    case RolloutSelect::Kind::kAll: select = {{"all", true}}; break;
  }
  const RolloutLimits& l = spec.limits;
  json::object o{{"select", std::move(select)},
                 {"action", to_string(spec.action)},
                 {"target", nullptr},
                 {"canary_percent", l.canary_percent},
                 {"batch_size", l.batch_size},
                 {"rate_per_minute", l.rate_per_minute},
                 {"max_failure_percent", l.max_failure_percent},
                 {"min_sample", l.min_sample},
                 {"max_alarm_percent", l.max_alarm_percent},
                 {"device_timeout_s", l.device_timeout.count()},
                 {"confirm_s", l.confirm.count()},
                 {"auto_rollback", l.auto_rollback}};
  if (spec.target) {
    o["target"] = {{"model", spec.target->name}, {"version", spec.target->version}};
  }
  return json::serialize(o);
}

bool selects(const RolloutSelect& select, const std::optional<ModelRef>& desired,
             const Labels& labels) {
  switch (select.kind) {
    case RolloutSelect::Kind::kModel:
      return desired && name_key(desired->name) == name_key(select.model.name) &&
             desired->version == select.model.version;
    case RolloutSelect::Kind::kLabels:
      for (const auto& [k, v] : select.labels) {
        auto it = labels.find(k);
        if (it == labels.end() || it->second != v) return false;
      }
      return true;
    case RolloutSelect::Kind::kDevices:
    case RolloutSelect::Kind::kAll: return true;
  }
  return true;
}

}  // namespace vigil::fleet
