#include "api/events_ws.h"

#include "core/json_text.h"

#include <boost/json.hpp>

#include <mutex>
#include <unordered_map>

namespace vigil::api {
namespace json = boost::json;

namespace {

// Client text echoed in an error is cut to this many bytes.
constexpr size_t kEchoBytes = 64;

// At most kEchoBytes of valid UTF-8 text, cut before a code point, not inside one.
std::string_view cut(std::string_view text) {
  if (text.size() <= kEchoBytes) return text;
  size_t n = kEchoBytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

std::string quoted(std::string_view text) {
  std::string_view shown = cut(text);
  return "'" + std::string(shown) + (shown.size() < text.size() ? "…'" : "'");
}

Status read_topics(const json::value& v, EventsRequest& out) {
  const json::array* list = v.if_array();
  if (!list) return invalid_field("topics", "must be an array of topics");
  if (list->size() > kMaxEventTopics) {
    return invalid_field("topics", "at most " + std::to_string(kMaxEventTopics) + " topics");
  }
  for (const auto& t : *list) {
    const json::string* s = t.if_string();
    if (!s || !out.topic_set.add(*s)) {
      return invalid_field("topics", "unknown topic " + (s ? quoted(*s) : json::serialize(t)) +
                                         " (alarms, devices, rollouts, tasks, system, "
                                         "sensor:<name>, sensor:*)");
    }
    out.topics.emplace_back(*s);
  }
  return {};
}

Status read_since(const json::value& v, EventsRequest& out) {
  if (v.is_null()) return {};
  if (v.is_uint64()) {
    out.since = v.get_uint64();
  } else if (v.is_int64() && v.get_int64() >= 0) {
    out.since = static_cast<uint64_t>(v.get_int64());
  } else {
    return invalid_field("since", "must be a non-negative integer (a seq)");
  }
  return {};
}

Status read_subscribe(const json::object& o, EventsRequest& out) {
  out.type = EventsRequest::Type::kSubscribe;
  for (const auto& [key, value] : o) {
    if (key == "type") continue;
    if (key == "topics") {
      VIGIL_RETURN_IF_ERROR(read_topics(value, out));
    } else if (key == "since") {
      VIGIL_RETURN_IF_ERROR(read_since(value, out));
    } else {
      return invalid_field(std::string(cut(key)), "unknown field");
    }
  }
  if (!o.contains("topics")) return invalid_field("topics", "required");
  return {};
}

std::string error_frame(const Status& s) {
  return json::serialize(json::object{{"type", "error"}, {"ref", nullptr}, {"detail", s.detail()}});
}

std::string subscribed_frame(const std::vector<std::string>& topics, uint64_t seq) {
  json::array list;
  for (const auto& t : topics) list.emplace_back(t);
  return json::serialize(
      json::object{{"type", "subscribed"}, {"topics", std::move(list)}, {"seq", seq}});
}

// One subscription per connection, replaced by each subscribe.
class EventsEndpoint final : public net::WsEndpoint {
 public:
  explicit EventsEndpoint(EventsDeps deps) : hub_(*deps.hub), deps_(std::move(deps)) {}

  void on_message(const std::shared_ptr<net::WsConnection>& conn, std::string_view text) override {
    auto request = parse_events_request(text);
    if (!request.ok()) return conn->send(error_frame(request.status()));
    if (request->type == EventsRequest::Type::kPing) return conn->send(R"({"type":"pong"})");
    subscribe(conn, std::move(*request));
  }

  void on_close(const std::shared_ptr<net::WsConnection>& conn) override { take(conn->id()); }

 private:
  void subscribe(const std::shared_ptr<net::WsConnection>& conn, EventsRequest request) {
    const Principal* who = conn->principal();
    if (!who) return conn->close("not signed in");  // the route's action needs a caller
    auto sub = take(conn->id());
    uint64_t seq = 0;
    if (sub && !request.since) {
      seq = sub->set_topics(std::move(request.topic_set));
    } else {
      sub.reset();  // the old one's deliveries end before the replay starts
      std::weak_ptr<net::WsConnection> weak = conn;
      sub = hub_.subscribe({.topics = std::move(request.topic_set),
                            .reader = {who->user_id, who->role},
                            .since = request.since,
                            .deliver = [weak](const std::string& frame) {
                              if (auto c = weak.lock()) c->send(frame);
                            }});
      seq = sub->start_seq();
    }
    conn->send(subscribed_frame(request.topics, seq));
    {
      std::lock_guard lock(mu_);
      subs_[conn->id()] = std::move(sub);
    }
    if (events::may_read({who->user_id, who->role}, std::nullopt)) send_recent(conn, request);
  }

  // Each named sensor's recent points, computed off the I/O thread.
  void send_recent(const std::shared_ptr<net::WsConnection>& conn, const EventsRequest& request) {
    if (!deps_.sensor_recent || !deps_.blocking) return;
    static constexpr std::string_view kPrefix = "sensor:";
    for (const std::string& topic : request.topics) {
      if (!topic.starts_with(kPrefix) || topic == "sensor:*") continue;
      std::weak_ptr<net::WsConnection> weak = conn;
      const bool posted =
          deps_.blocking->try_post([recent_of = deps_.sensor_recent, hub = &hub_, weak, topic] {
            auto recent = recent_of(std::string_view(topic).substr(kPrefix.size()));
            auto c = weak.lock();
            if (!c) return;
            if (!recent.ok()) return c->send(error_frame(recent.status()));
            c->send(hub->sample_frame(topic, *recent));
          });
      if (!posted) {
        conn->send(error_frame(Status(ErrorCode::kUnavailable,
                                      "busy: the recent points of " + topic + " are not sent")));
      }
    }
  }

  std::unique_ptr<events::Subscription> take(uint64_t conn_id) {
    std::lock_guard lock(mu_);
    auto it = subs_.find(conn_id);
    if (it == subs_.end()) return nullptr;
    auto sub = std::move(it->second);
    subs_.erase(it);
    return sub;
  }

  events::Hub& hub_;
  EventsDeps deps_;
  std::mutex mu_;
  std::unordered_map<uint64_t, std::unique_ptr<events::Subscription>> subs_;
};

net::RouteSpec events_spec() {
  return {.operation_id = "subscribeEvents",
          .summary =
              "Live events (WebSocket): subscribe to topics, get what was missed since a "
              "seq, then live events; docs/http/events.md",
          .tag = "events",
          .action = "events.read"};
}

}  // namespace

Expected<EventsRequest> parse_events_request(std::string_view text) {
  json::parse_options opts;
  opts.max_depth = 16;
  std::error_code ec;
  json::value v = parse_json(text, ec, opts);
  if (ec || !v.is_object()) return malformed("", "a message is one JSON object");
  const json::object& o = v.get_object();
  const json::value* type = o.if_contains("type");
  if (!type || !type->is_string()) return malformed("type", "must be a string");
  EventsRequest out;
  std::string_view t = type->get_string();
  if (t == "subscribe") {
    VIGIL_RETURN_IF_ERROR(read_subscribe(o, out));
  } else if (t == "ping") {
    out.type = EventsRequest::Type::kPing;
  } else {
    return invalid_field("type", "unknown message type " + quoted(t) + " (subscribe, ping)");
  }
  return out;
}

void add_events_routes(net::Router& router, EventsDeps deps) {
  router.add_websocket("/api/v1/ws/events", events_spec(),
                       std::make_shared<EventsEndpoint>(std::move(deps)));
}

}  // namespace vigil::api
