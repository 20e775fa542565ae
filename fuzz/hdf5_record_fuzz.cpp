// Outside input: a sleep-record file (records::read_record_file, libhdf5's C API). In the server
// it runs in a child process (records/record_parser.h), so a crash costs one file; here every
// crash is a finding. The bytes go to a temporary file (libhdf5 reads paths); small limits keep
// one run fast.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "records/record_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/vigil-fuzz-record-" + std::to_string(::getpid()) + ".h5";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto r = vigil::records::read_record_file(
      path,
      {.max_channels = 8, .max_samples = 1 << 20, .max_epochs = 1 << 12, .max_attributes = 64});
  if (r.ok()) {
    if (r->user.empty() || r->hypnogram.size() > (1 << 12)) __builtin_trap();
    size_t samples = 0;
    for (const auto& c : r->channels) samples += c.samples.size();
    if (samples > (1 << 20) || r->channels.size() > 8) __builtin_trap();
  }
  std::remove(path.c_str());
  return 0;
}
