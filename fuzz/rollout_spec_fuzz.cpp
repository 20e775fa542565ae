// Outside input: the body of POST /api/v1/rollouts (fleet::parse_rollout_spec).
#include <cstdint>
#include <string>

#include "fleet/rollout_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = vigil::fleet::parse_rollout_spec(body);
  // A spec, or the reasons why not.
  if (parsed.spec.has_value() == (!parsed.malformed.empty() || !parsed.errors.empty())) {
    __builtin_trap();
  }
  if (parsed.spec) {
    // What is stored parses back to itself.
    auto text = vigil::fleet::rollout_spec_json(*parsed.spec);
    auto again = vigil::fleet::parse_rollout_spec(text);
    if (!again.spec || vigil::fleet::rollout_spec_json(*again.spec) != text) __builtin_trap();
  }
  return 0;
}
