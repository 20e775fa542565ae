// Parsing a record file in a child process: libhdf5 can crash or run away on a malformed file,
// so the server never opens one itself. parse_in_child() runs `<exe> parse-record FILE
// --max-memory N` (the vigil binary's hidden subcommand, which calls run_parse_record), reads
// its output through a pipe, and answers the record, or why there is none:
// - the child refused the file (kInvalidArgument, kResourceExhausted: its reason);
// - it crashed (kInvalidArgument "the parser crashed (signal 11) on this file");
// - it ran past the timeout (killed; kInvalidArgument "the parser took longer than 30 s");
// - it could not be started (kUnavailable: the server's fault, not the file's).
// The child caps its own address space (RLIMIT_AS) at max_memory_bytes before it opens the file
// (not in an AddressSanitizer build, whose shadow memory alone is terabytes of address space).
//
// The wire between them (encode_record/decode_record): a JSON header line (the fields, the
// attributes, the hypnogram, each channel's modality, name, fs, unit and sample count), then
// each channel's samples as little-endian float32, in order; or one line "error <code> <reason>".
// decode_record checks every length (fuzzed: fuzz/record_wire_fuzz.cpp).
//
// Thread-safe: every call starts its own process.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "records/record_file.h"

namespace vigil::records {

struct ParserOptions {
  std::string exe;  // the vigil binary
  std::chrono::milliseconds timeout{30'000};
  size_t max_memory_bytes = size_t{2} << 30;
  RecordLimits limits;
};

Expected<RecordFile> parse_in_child(const std::string& path, const ParserOptions& options);

// The child's side: reads the file and writes the wire form of the result to `fd`. Returns the
// process exit code (0 also when the file was refused: the refusal is on the wire).
int run_parse_record(const std::string& path, size_t max_memory_bytes, int fd);

std::string encode_record(const RecordFile& r);
std::string encode_refusal(const Status& s);
Expected<RecordFile> decode_record(std::string_view wire, const RecordLimits& limits = {});

}  // namespace vigil::records
