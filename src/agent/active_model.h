// The model `vigil agent` runs: a checked artifact loaded by the runtimes of src/runtime, with
// what the agent needs from its metadata. activate() is the agent's last check before it
// switches: the file loads, and a probe row predicts finite values. Scoring and the alarm rule
// are pure, so unit tests cover them without a server.
//
// Thread safety: an ActiveModel is immutable once made; score() is safe from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "agent/agent_files.h"
#include "core/status.h"
#include "runtime/runtime.h"

namespace vigil::agent {

struct ActiveModel {
  InstalledModel info;
  std::shared_ptr<const runtime::LoadedModel> model;
  // metadata.alarm_threshold: a row whose score is at or above it raises an alarm. nullopt: the
  // model never alarms (no threshold, or the blank model).
  std::optional<double> alarm_threshold;
  // Failed predictions since it was activated (rows of the wrong width do not count): a model
  // that fails any during its confirm window is rolled back.
  mutable std::atomic<uint64_t> failures{0};
};

// Loads `bytes` with the runtime of info.kind and predicts a probe row: metadata.probe (an
// array of numbers, null = missing) when given, else a row of zeros as wide as the model takes
// (one column for a model of any width). kInvalidArgument says what is wrong: unknown kind, a
// file the runtime refuses, a probe that fails or predicts a value that is not finite.
Expected<std::shared_ptr<const ActiveModel>> activate(const runtime::RuntimeRegistry& runtimes,
                                                      const InstalledModel& info,
                                                      std::string_view bytes);

// A row's score: its prediction for a single-output model, the largest value for several
// (multi-class: the most likely class's probability). kInvalidArgument for a row of the wrong
// width; other errors count as failures of the model.
Expected<double> score(const ActiveModel& active, std::span<const float> row);

// Whether a score raises an alarm under this model.
bool raises_alarm(const ActiveModel& active, double score);

}  // namespace vigil::agent
