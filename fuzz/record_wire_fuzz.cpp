// Outside input: what the record parser's child process writes back (records::decode_record). A
// child that crashed or was killed mid-write hands over anything. What decodes re-encodes and
// decodes to the same record.
#include <cstdint>
#include <string_view>

#include "records/record_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view wire(reinterpret_cast<const char*>(data), size);
  auto r = vigil::records::decode_record(wire, {.max_samples = 1 << 20});
  if (!r.ok()) return 0;
  // What decodes encodes to a wire that decodes to the same record: the same wire again (NaN
  // attributes compare unequal as values, so the wires are compared).
  const std::string wire1 = vigil::records::encode_record(*r);
  auto again = vigil::records::decode_record(wire1, {.max_samples = 1 << 20});
  if (!again.ok() || vigil::records::encode_record(*again) != wire1 ||
      again->hypnogram != r->hypnogram || again->channels.size() != r->channels.size()) {
    __builtin_trap();
  }
  return 0;
}
