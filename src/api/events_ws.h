// GET /api/v1/ws/events: the events WebSocket (../shared/docs/API.md, "WebSocket: events";
// docs/http/events.md). A signed-in admin or user subscribes to topics and gets the hub's event
// frames it may read: first what it missed since a seq, then live ones. The rules (topics, who
// reads what, replay and gaps) live in events::Hub; this is the protocol around it.
//
// Client messages, one JSON object per text frame:
//   {"type":"subscribe","topics":[…],"since"?:<seq>}  replaces the connection's subscription;
//       answered {"type":"subscribed","topics":[…],"seq":<newest seq>} after any replay, then,
//       per `sensor:<name>` topic, an event with the sensor's recent points
//   {"type":"ping"}                                    answered {"type":"pong"}
// Anything else is answered {"type":"error","ref":null,"detail":…} and the connection stays
// open (a bad subscribe leaves the current subscription as it was).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/blocking_pool.h"
#include "core/status.h"
#include "events/hub.h"
#include "net/router.h"

namespace vigil::api {

inline constexpr size_t kMaxEventTopics = 64;

struct EventsRequest {
  enum class Type { kSubscribe, kPing };
  Type type = Type::kPing;
  // subscribe: the topics as given (each one events::topic_key knows) and their set
  std::vector<std::string> topics;
  events::TopicSet topic_set;
  std::optional<uint64_t> since;
};

// Reads one client message; pure (fuzzed: fuzz/events_request_fuzz.cpp). Errors: kMalformed
// for text that is not a JSON object with a string "type"; kInvalidArgument naming the field
// for an unknown type, an unknown field, more than kMaxEventTopics topics, a topic that is not
// one, or a since that is not a non-negative integer.
Expected<EventsRequest> parse_events_request(std::string_view text);

struct EventsDeps {
  events::Hub* hub = nullptr;
  // A subscription to `sensor:<name>` first gets this event (the sensor's last points with
  // their levels; api/sensor_events.h), computed on `blocking`; kNotFound is answered with an
  // error frame (the topic stays subscribed). Empty: nothing first.
  std::function<Expected<boost::json::object>(std::string_view sensor)> sensor_recent;
  BlockingPool* blocking = nullptr;
};

void add_events_routes(net::Router& router, EventsDeps deps);

}  // namespace vigil::api
