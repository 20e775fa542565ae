// The device WebSocket's messages (../shared/docs/API.md "WebSocket: devices", docs/protocol.md):
// parsing what an agent sends and writing what the server answers. Pure functions: no I/O, no
// clock, no store. Outside input: parse_device_message has a fuzz target
// (fuzz/device_message_fuzz.cpp).
//
// Thread-safe (no shared state).
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "fleet/alarm_store.h"  // kMaxAlarmDetailsBytes
#include "fleet/device_store.h"
#include "fleet/rollout_planner.h"
#include "telemetry/ingest_parse.h"

namespace vigil::fleet {

// A device message larger than this is refused (the session answers an error and reads on),
// unless it is telemetry: that may be as large as kMaxTelemetryMessageBytes, the largest message
// the WebSocket layer reads (net/websocket_session.cpp; a larger one ends the session), and
// carry at most telemetry::kMaxIngestPoints points.
inline constexpr size_t kMaxDeviceMessageBytes = 64 * 1024;
inline constexpr size_t kMaxTelemetryMessageBytes = 1024 * 1024;

struct HelloMessage {
  std::string agent;              // "vigil-agent/1.0"; at most 128 characters
  std::optional<ModelRef> model;  // what it runs; nullopt: nothing
};

struct PullMessage {
  std::string model;
  std::optional<int64_t> version;  // nullopt: "latest"
};

struct StatusMessage {
  int64_t ref = 0;                                // the command's id
  DeviceState state = DeviceState::kDownloading;  // downloading | applied | confirmed | failed
  std::optional<ModelRef> model;
  std::string error;  // with failed: why (at most 1024 characters kept)
};

struct AlarmMessage {
  std::string id;  // the agent's id for this report (1–128 characters): a resend is stored once
  std::string at;  // RFC 3339 as normalised by the parser; empty: now
  std::string severity;  // warning | minor | major | critical
  std::optional<ModelRef> model;
  std::string sensor;          // optional
  std::string details = "{}";  // a JSON object's text
};

// Points, in either JSON shape POST /api/v1/telemetry takes (telemetry/ingest_parse.h), with
// "type" and "id" beside them.
struct TelemetryMessage {
  std::string id;  // the agent's id for this batch (1–128 characters): the ack's ref
  std::vector<telemetry::NamedPoints> points;  // by sensor name as given
};

struct PingMessage {};

using DeviceMessage = std::variant<HelloMessage, PullMessage, StatusMessage, AlarmMessage,
                                   TelemetryMessage, PingMessage>;

// What parse_device_message gives back: the message, or why not with the `ref` the error frame
// carries (the message's "id", else its "ref", else null — as JSON text).
struct ParsedDeviceMessage {
  std::optional<DeviceMessage> message;
  std::string error;
  std::string ref_json = "null";
};

ParsedDeviceMessage parse_device_message(std::string_view text);

// What a device is told to run or asks for.
struct ModelOffer {
  std::string name;
  int64_t version = 0;
  std::string sha256;     // lowercase hex of the artifact
  std::string signature;  // ModelSigner::sign(name, version, sha256)
  std::string url;        // the artifact, relative to the server: /api/v1/models/…/artifact
  // Extension (docs/protocol.md): what the agent needs to load and use the file without reading
  // the model registry (a watchdog may not): the runtime kind, and the version's metadata (a
  // JSON object as uploaded: feature_names, alarm_threshold, …), parsed once when the offer is
  // made, not for every frame. Not signed.
  std::string kind;
  boost::json::object metadata;

  ModelRef ref() const { return {name, version}; }
};

std::string artifact_url(std::string_view model, int64_t version);

// The server's frames, one JSON object each.
std::string welcome_frame(std::string_view watchdog, std::string_view device,
                          const std::optional<ModelOffer>& assigned);
std::string model_frame(const ModelOffer& offer);
// rollout 0: none. confirm_s: how long the agent keeps the new model without failing before it
// reports confirmed (an extension of API.md; docs/protocol.md).
std::string command_frame(int64_t id, RolloutAction action, const ModelOffer& model,
                          int64_t rollout, int64_t confirm_s);
std::string ack_frame(std::string_view ref);
// A telemetry message's ack: its points are durable; `accepted` counts a point repeated in the
// message once.
std::string ack_frame(std::string_view ref, size_t accepted);
// ref_json: JSON text ("null", "12", "\"a1\"").
std::string error_frame(std::string_view ref_json, std::string_view detail);
std::string pong_frame();

}  // namespace vigil::fleet
