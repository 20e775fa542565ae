// Writing a sleep-record file in the layout record_file.h reads (the original collector's, as
// h5py writes it), with libhdf5's C API: for tests, the benchmark and generated fixtures; the
// server never writes one.
//
// - every entry of r.attributes as a scalar root attribute: int64 → 64-bit integer, double →
//   64-bit float, string → variable-length UTF-8 (r's named fields, user, device, …, are not
//   written: read_record_file fills them from the attributes);
// - r.hypnogram as the int8 dataset reporting/dreemnogram;
// - each channel as the float32 dataset signals/<modality>/<name> with attributes fs (double)
//   and unit (string); gzip-compressed (chunked) when gzip_level is 1 to 9.
//
// The file at `path` is replaced. Holds the module's libhdf5 lock (thread-safe). Errors:
// kInvalidArgument for a channel without a plain modality or name (empty, '/', '.', a repeat);
// kUnavailable when the file cannot be written.
#pragma once

#include <string>

#include "core/status.h"
#include "records/record_file.h"

namespace vigil::records {

struct RecordWriteOptions {
  int gzip_level = 0;  // 0: no compression
};

Status write_record_file(const std::string& path, const RecordFile& r,
                         const RecordWriteOptions& options = {});

}  // namespace vigil::records
