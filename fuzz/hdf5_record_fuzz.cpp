// Outside input: a sleep-record file, parsed as the server parses it — in a child process
// (records::parse_in_child), because libhdf5 itself can crash or ask for petabytes on a
// malformed file (this fuzzer found both within seconds in Debian's libhdf5 1.10.8). The child is
// this same binary (LLVMFuzzerInitialize turns `<self> parse-record --serve --max-memory N`
// into records::serve_parse_records), so what is fuzzed is the whole path: the reader, the wire,
// the parent's reading of a child that crashed, ran away or answered. Whatever the file, the answer
// is a record within the limits or a refusal that blames the file — never the server's error.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "records/record_parser.h"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  if (*argc >= 5 && std::strcmp((*argv)[1], "parse-record") == 0 &&
      std::strcmp((*argv)[2], "--serve") == 0) {
    const size_t memory = std::strtoull((*argv)[4], nullptr, 10);
    std::_Exit(vigil::records::serve_parse_records(STDIN_FILENO, STDOUT_FILENO, memory));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/vigil-fuzz-record-" + std::to_string(::getpid()) + ".h5";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);
  const vigil::records::RecordLimits limits{
      .max_channels = 8, .max_samples = 1 << 20, .max_epochs = 1 << 12, .max_attributes = 64};
  auto r = vigil::records::parse_in_child(path, {.exe = "/proc/self/exe",
                                                 .timeout = std::chrono::seconds(10),
                                                 .max_memory_bytes = size_t{1} << 30,
                                                 .limits = limits});
  std::remove(path.c_str());
  if (r.ok()) {
    if (r->user.empty() || r->hypnogram.size() > limits.max_epochs) __builtin_trap();
    size_t samples = 0;
    for (const auto& c : r->channels) samples += c.length();
    if (samples > limits.max_samples || r->channels.size() > limits.max_channels) __builtin_trap();
  } else if (r.status().code() != vigil::ErrorCode::kInvalidArgument &&
             r.status().code() != vigil::ErrorCode::kResourceExhausted) {
    __builtin_trap();  // the file's fault must never read as the server's
  }
  return 0;
}
