// Outside input: a text frame a client sends on GET /api/v1/ws/events, read by
// parse_events_request; what it accepts must be a subscription the hub can take.
#include <cstdint>
#include <string_view>

#include "api/events_ws.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto request = vigil::api::parse_events_request(text);
  if (!request.ok()) {
    if (request.status().message().empty()) __builtin_trap();
    return 0;
  }
  if (request->type != vigil::api::EventsRequest::Type::kSubscribe) return 0;
  if (request->topics.size() > vigil::api::kMaxEventTopics) __builtin_trap();
  if (request->topic_set.size() > request->topics.size()) __builtin_trap();
  for (const auto& topic : request->topics) {
    auto key = vigil::events::topic_key(topic);
    if (!key) __builtin_trap();
    if (*key != "sensor:*" && !request->topic_set.matches(*key)) __builtin_trap();
  }
  return 0;
}
