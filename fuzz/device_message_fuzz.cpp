// Outside input: a text frame a device sends on its WebSocket (fleet::parse_device_message),
// and the error frame (or a telemetry message's ack) the hub would answer it with.
#include <boost/json.hpp>

#include <cstdint>
#include <string>

#include "fleet/device_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = vigil::fleet::parse_device_message(text);
  // Exactly one of a message and an error.
  if (parsed.message.has_value() == !parsed.error.empty()) __builtin_trap();
  // The ref an error frame carries is JSON.
  boost::system::error_code ec;
  (void)boost::json::parse(parsed.ref_json, ec);
  if (ec) __builtin_trap();
  auto frame = vigil::fleet::error_frame(parsed.ref_json, parsed.error);
  (void)boost::json::parse(frame, ec);
  if (ec) __builtin_trap();
  // A telemetry message: at most kMaxIngestPoints points, and its ack is JSON.
  if (parsed.message) {
    if (const auto* t = std::get_if<vigil::fleet::TelemetryMessage>(&*parsed.message)) {
      size_t points = 0;
      for (const auto& np : t->points) points += np.points.size();
      if (points > vigil::telemetry::kMaxIngestPoints) __builtin_trap();
      (void)boost::json::parse(vigil::fleet::ack_frame(t->id, points), ec);
      if (ec) __builtin_trap();
    }
  }
  return 0;
}
