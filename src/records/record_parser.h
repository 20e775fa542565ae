// Parsing a record file in a child process: libhdf5 can crash or run away on a malformed file,
// so the server never opens one itself. A RecordParser keeps children of the vigil binary
// (`<exe> parse-record --serve --max-memory N`, which runs serve_parse_records) and reuses each
// for many files: starting one costs about 40 ms of CPU (the dynamic loader and the page faults
// of a binary with 54 libraries), as much as parsing a 5 MB record. parse() answers the record,
// or why there is none:
// - the child refused the file (kInvalidArgument, kResourceExhausted: its reason);
// - it crashed (kInvalidArgument "the parser crashed (signal 11) on this file");
// - it ran past the timeout (killed; kInvalidArgument "the parser took longer than 30000 ms");
// - it could not be started (kUnavailable: the server's fault, not the file's).
// A child is ended after a refusal, a crash or a timeout (a malformed file may leave libhdf5 in
// a bad state, so the next file always gets a clean one) and after max_uses files; a crash of a
// child that had parsed other files first is tried once more in a fresh child, so no file is
// blamed for damage an earlier one did. The child caps its own address space (RLIMIT_AS) at
// max_memory_bytes (not in an AddressSanitizer build, whose shadow memory alone is terabytes of
// address space).
//
// Between them: the parent writes a request (u32 LE length, the path), the child answers with
// a frame (u64 LE length, then the wire form). The wire form (encode_record/decode_record): a
// JSON header line (the fields, the attributes, the hypnogram, each channel's modality, name,
// fs, unit and sample count), then each channel's samples as little-endian float32, in order;
// or one line "error <code> <reason>". decode_record checks every length (fuzzed:
// fuzz/record_wire_fuzz.cpp).
//
// Thread-safe: parse() may be called from any number of threads; each call has a child to
// itself, and at most max_idle children wait between calls.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "records/record_file.h"

namespace vigil::records {

struct ParserOptions {
  std::string exe;  // the vigil binary
  std::chrono::milliseconds timeout{30'000};
  size_t max_memory_bytes = size_t{2} << 30;
  RecordLimits limits;
  size_t max_idle = 4;  // children kept between files
  int max_uses = 100;   // files a child parses before it is replaced
};

class RecordParser {
 public:
  struct Child;  // (public for the helpers that start one)

  explicit RecordParser(ParserOptions options);
  ~RecordParser();  // ends the idle children
  RecordParser(const RecordParser&) = delete;
  RecordParser& operator=(const RecordParser&) = delete;

  Expected<RecordFile> parse(const std::string& path);

  const ParserOptions& options() const { return options_; }
  int children_started() const { return started_.load(); }

 private:
  // One file in `child`; `reusable`: the child may take another; `ended`: it ended without
  // an answer (crashed or exited).
  Expected<RecordFile> parse_in(Child& child, const std::string& path, bool& reusable, bool& ended);

  ParserOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Child>> idle_;
  std::atomic<int> started_{0};
};

// One file in a fresh child that parses only it (what the fuzz target and tests of a single
// file use).
Expected<RecordFile> parse_in_child(const std::string& path, const ParserOptions& options);

// The child's side of one file: reads it and writes the wire form of the result to `fd`. Returns
// the process exit code (0 also when the file was refused: the refusal is on the wire).
int run_parse_record(const std::string& path, size_t max_memory_bytes, int fd);

// The child's side of a RecordParser: answers each request on `in_fd` with a frame on `out_fd`
// until `in_fd` ends or a file is refused (then it exits: the parent starts a clean child).
int serve_parse_records(int in_fd, int out_fd, size_t max_memory_bytes);

std::string encode_record(const RecordFile& r);
std::string encode_refusal(const Status& s);
Expected<RecordFile> decode_record(std::string_view wire, const RecordLimits& limits = {});

}  // namespace vigil::records
