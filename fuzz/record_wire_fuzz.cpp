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
  auto again =
      vigil::records::decode_record(vigil::records::encode_record(*r), {.max_samples = 1 << 20});
  if (!again.ok() || again->attributes != r->attributes || again->hypnogram != r->hypnogram ||
      again->channels.size() != r->channels.size()) {
    __builtin_trap();
  }
  return 0;
}
