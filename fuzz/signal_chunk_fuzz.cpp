// Outside input: a record's signal chunk as the store hands it back (records::decode_signal_chunk),
// which a damaged database or another writer's bug could make anything. What decodes re-encodes
// and decodes to the same samples, bit for bit.
#include <bit>
#include <cstdint>
#include <string_view>
#include <vector>

#include "records/signal_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<float> samples;
  if (!vigil::records::decode_signal_chunk(input, samples).ok()) return 0;
  if (samples.empty() || samples.size() > vigil::records::kMaxSignalChunkSamples) __builtin_trap();
  std::vector<float> again;
  if (!vigil::records::decode_signal_chunk(vigil::records::encode_signal_chunk(samples), again)
           .ok() ||
      again.size() != samples.size()) {
    __builtin_trap();
  }
  for (size_t i = 0; i < samples.size(); ++i) {
    if (std::bit_cast<uint32_t>(again[i]) != std::bit_cast<uint32_t>(samples[i])) __builtin_trap();
  }
  return 0;
}
