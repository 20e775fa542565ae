#include "fleet/device_protocol.h"

#include <boost/json.hpp>

#include "core/ids.h"
#include "core/json_text.h"

namespace vigil::fleet {
namespace {

namespace json = boost::json;

constexpr size_t kMaxAgentChars = 128;
constexpr size_t kMaxClientIdChars = 128;
constexpr size_t kMaxErrorChars = 1024;

// Why a field is wrong, or empty.
struct Reader {
  const json::object& o;
  std::string error;

  const json::value* field(std::string_view key) const {
    auto it = o.find(key);
    return it == o.end() ? nullptr : &it->value();
  }
  void fail(std::string_view key, std::string_view what) {
    if (error.empty()) error = std::string(key) + ": " + std::string(what);
  }
  std::optional<std::string> string(std::string_view key, bool required, size_t max_chars) {
    const json::value* v = field(key);
    if (!v || v->is_null()) {
      if (required) fail(key, "required");
      return std::nullopt;
    }
    if (!v->is_string()) {
      fail(key, "must be a string");
      return std::nullopt;
    }
    std::string s(v->get_string());
    if (s.size() > max_chars) {
      fail(key, "too long");
      return std::nullopt;
    }
    return s;
  }
  std::optional<int64_t> positive_int(const json::value* v, std::string_view key) {
    if (!v || !(v->is_int64() || v->is_uint64()) || (v->is_int64() && v->get_int64() < 1) ||
        (v->is_uint64() && v->get_uint64() > uint64_t(INT64_MAX))) {
      fail(key, "must be an integer from 1");
      return std::nullopt;
    }
    return v->is_int64() ? v->get_int64() : int64_t(v->get_uint64());
  }
  // {"name","version"}; `latest_ok`: version may be "latest" (→ version 0).
  std::optional<ModelRef> model(std::string_view key, bool required, bool latest_ok = false) {
    const json::value* v = field(key);
    if (!v || v->is_null()) {
      if (required) fail(key, "required");
      return std::nullopt;
    }
    if (!v->is_object()) {
      fail(key, "must be an object {name, version}");
      return std::nullopt;
    }
    const json::object& m = v->get_object();
    auto name = m.find("name");
    if (name == m.end() || !name->value().is_string() ||
        !DeviceStore::validate_name(name->value().get_string(), "model").ok()) {
      fail(key, "name must be 1-64 of [A-Za-z0-9._-]");
      return std::nullopt;
    }
    auto version = m.find("version");
    if (latest_ok && version != m.end() && version->value().is_string() &&
        version->value().get_string() == "latest") {
      return ModelRef{std::string(name->value().get_string()), 0};
    }
    auto n = positive_int(version == m.end() ? nullptr : &version->value(),
                          latest_ok ? "version (or \"latest\")" : "version");
    if (!n) return std::nullopt;
    return ModelRef{std::string(name->value().get_string()), *n};
  }
  // The agent's id for a report ("id", 1–128 characters): its ack's ref.
  std::string client_id() {
    auto id = string("id", true, kMaxClientIdChars);
    if (id && id->empty()) fail("id", "must not be empty");
    return id.value_or("");
  }
};

// {"type":"telemetry","id", and the points in either shape of telemetry::parse_ingest_json}.
// Takes "type" and "id" out of `o` (read already), so that the points reader sees its own
// fields only and names any other.
std::optional<TelemetryMessage> telemetry_message(json::object& o, Reader& r) {
  TelemetryMessage m;
  m.id = r.client_id();
  if (!r.error.empty()) return std::nullopt;
  o.erase("type");
  o.erase("id");
  auto points = telemetry::parse_ingest_json(o);
  if (!points.ok()) {
    r.error = points.status().detail();
    return std::nullopt;
  }
  m.points = std::move(*points);
  return m;
}

std::string ref_of(const json::object& o) {
  for (std::string_view key : {"id", "ref"}) {
    auto it = o.find(key);
    if (it == o.end()) continue;
    const json::value& v = it->value();
    if (v.is_string() || v.is_int64() || v.is_uint64()) {
      std::string text = json::serialize(v);
      if (text.size() <= 2 * kMaxClientIdChars) return text;
    }
    return "null";
  }
  return "null";
}

json::value offer_json(const ModelOffer& m) {
  return json::object{{"name", m.name},           {"version", m.version}, {"sha256", m.sha256},
                      {"signature", m.signature}, {"url", m.url},         {"kind", m.kind},
                      {"metadata", m.metadata}};
}

}  // namespace

ParsedDeviceMessage parse_device_message(std::string_view text) {
  ParsedDeviceMessage out;
  if (text.size() > kMaxTelemetryMessageBytes) {
    out.error = "message larger than " + std::to_string(kMaxTelemetryMessageBytes) + " bytes";
    return out;
  }
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  json::value v = parse_json(text, ec, options);
  if (ec) {
    out.error = "not JSON: " + ec.message();
    return out;
  }
  if (!v.is_object()) {
    out.error = "a message is a JSON object with a \"type\"";
    return out;
  }
  json::object& o = v.get_object();
  out.ref_json = ref_of(o);
  auto type_it = o.find("type");
  if (type_it == o.end() || !type_it->value().is_string()) {
    out.error = "type: required";
    return out;
  }
  // (a copy: a telemetry message's "type" is taken out of `o` before its points are read)
  const std::string type(std::string_view(type_it->value().get_string()).substr(0, 32));
  if (text.size() > kMaxDeviceMessageBytes && type != "telemetry") {
    out.error = "message larger than " + std::to_string(kMaxDeviceMessageBytes) +
                " bytes (telemetry: " + std::to_string(kMaxTelemetryMessageBytes) + ")";
    return out;
  }
  Reader r{o, {}};
  if (type == "ping") {
    out.message = PingMessage{};
  } else if (type == "hello") {
    HelloMessage m;
    m.agent = r.string("agent", false, kMaxAgentChars).value_or("");
    m.model = r.model("model", false);
    if (r.error.empty()) out.message = std::move(m);
  } else if (type == "pull") {
    auto m = r.model("model", true, /*latest_ok=*/true);
    if (m) {
      PullMessage p{m->name, std::nullopt};
      if (m->version > 0) p.version = m->version;
      out.message = std::move(p);
    }
  } else if (type == "status") {
    StatusMessage m;
    auto ref = r.positive_int(r.field("ref"), "ref");
    auto state = r.string("state", true, 32);
    m.model = r.model("model", false);
    m.error = r.string("error", false, 64 * 1024).value_or("");
    if (m.error.size() > kMaxErrorChars) m.error.resize(kMaxErrorChars);
    if (state) {
      auto s = device_state_from(*state);
      if (!s || (*s != DeviceState::kDownloading && *s != DeviceState::kApplied &&
                 *s != DeviceState::kConfirmed && *s != DeviceState::kFailed)) {
        r.fail("state", "must be downloading, applied, confirmed or failed");
      } else {
        m.state = *s;
      }
    }
    if (ref) m.ref = *ref;
    if (r.error.empty()) out.message = std::move(m);
  } else if (type == "alarm") {
    AlarmMessage m;
    m.id = r.client_id();
    if (auto at = r.string("at", false, 64)) {
      auto t = parse_timestamp(*at);
      if (!t) {
        r.fail("at", "must be an RFC 3339 time");
      } else {
        m.at = format_rfc3339(*t);
      }
    } else if (const json::value* at = r.field("at"); at && (at->is_int64() || at->is_uint64())) {
      auto t = parse_timestamp(json::serialize(*at));
      if (!t) {
        r.fail("at", "out of range");
      } else {
        m.at = format_rfc3339(*t);
      }
    }
    auto severity = r.string("severity", true, 16);
    if (severity && *severity != "warning" && *severity != "minor" && *severity != "major" &&
        *severity != "critical") {
      r.fail("severity", "must be warning, minor, major or critical");
    }
    m.severity = severity.value_or("");
    m.model = r.model("model", false);
    m.sensor = r.string("sensor", false, 64).value_or("");
    if (const json::value* d = r.field("details"); d && !d->is_null()) {
      if (!d->is_object()) {
        r.fail("details", "must be an object");
      } else {
        m.details = json::serialize(*d);
        if (m.details.size() > kMaxAlarmDetailsBytes) r.fail("details", "larger than 16 KiB");
      }
    }
    if (r.error.empty()) out.message = std::move(m);
  } else if (type == "telemetry") {
    if (auto m = telemetry_message(o, r)) out.message = std::move(*m);
  } else {
    out.error = "unknown type \"" + type + "\"";
    return out;
  }
  if (!out.message) out.error = std::move(r.error);
  return out;
}

std::string artifact_url(std::string_view model, int64_t version) {
  return "/api/v1/models/" + std::string(model) + "/versions/" + std::to_string(version) +
         "/artifact";
}

std::string welcome_frame(std::string_view watchdog, std::string_view device,
                          const std::optional<ModelOffer>& assigned) {
  return json::serialize(json::object{{"type", "welcome"},
                                      {"watchdog", watchdog},
                                      {"device", device},
                                      {"assigned", assigned ? offer_json(*assigned) : nullptr}});
}

std::string model_frame(const ModelOffer& offer) {
  json::object o = offer_json(offer).as_object();
  o.emplace("type", "model");
  return json::serialize(o);
}

std::string command_frame(int64_t id, RolloutAction action, const ModelOffer& model,
                          int64_t rollout, int64_t confirm_s) {
  json::object o{{"type", "command"},
                 {"id", id},
                 {"action", to_string(action)},
                 {"model", offer_json(model)},
                 {"confirm_s", confirm_s}};
  if (rollout) o["rollout"] = rollout;
  return json::serialize(o);
}

std::string ack_frame(std::string_view ref) {
  return json::serialize(json::object{{"type", "ack"}, {"ref", ref}});
}

std::string ack_frame(std::string_view ref, size_t accepted) {
  return json::serialize(json::object{{"type", "ack"}, {"ref", ref}, {"accepted", accepted}});
}

std::string error_frame(std::string_view ref_json, std::string_view detail) {
  boost::system::error_code ec;
  json::value ref = parse_json(ref_json, ec);
  if (ec) ref = nullptr;
  return json::serialize(json::object{{"type", "error"}, {"ref", ref}, {"detail", detail}});
}

std::string pong_frame() { return R"({"type":"pong"})"; }

}  // namespace vigil::fleet
