// A sleep-record file (HDF5, the original collector's layout; shared/data/SOURCES.md): every
// root attribute, the hypnogram (reporting/dreemnogram, one stage per 30 s epoch: -1 artefact,
// 0 wake, 1 N1, 2 N2, 3 N3, 4 REM) and every signal channel (signals/<modality>/<channel>,
// float32 with attributes fs in Hz and unit), read with libhdf5's C API.
//
// read_record_file() is what a collector's child process runs (a malformed file can crash
// libhdf5, so the server never opens one itself): it does file I/O and nothing else, checks
// every size against RecordLimits before allocating, and is serialised by a process-wide lock
// (the Debian libhdf5 is not thread-safe). Errors: kInvalidArgument with the reason a person
// can act on ("not an HDF5 file", "attribute user is missing", "signals/eeg/F7_O1 has no fs");
// kResourceExhausted when a limit is passed; kNotFound when the path does not exist.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"

namespace vigil::records {

using AttributeValue = std::variant<int64_t, double, std::string>;

struct Channel {
  std::string modality;  // "eeg"
  std::string name;      // "F7_O1"
  double fs = 0;         // samples per second
  std::string unit;
  std::vector<float> samples;
  // Or, when the file's own chunks were kept (read_record_file with keep_chunks): its samples
  // as stored chunks (signal_codec.h), in order; samples is then empty.
  std::vector<std::string> chunks;

  size_t length() const;  // its samples: samples.size() or the chunks' counts summed
};

struct RecordFile {
  std::map<std::string, AttributeValue> attributes;  // every root attribute
  // The ones a record needs (also in attributes).
  std::string user, device, dreempy_version;
  int64_t start_time = 0, stop_time = 0;              // Unix seconds
  int64_t sleep_start_time = 0, sleep_stop_time = 0;  // Unix seconds
  double sleep_score = 0;
  int64_t number_of_stimulations = 0, number_of_wake = 0;
  std::vector<int8_t> hypnogram;  // a stage per 30 s epoch from start_time
  std::vector<Channel> channels;
};

struct RecordLimits {
  size_t max_channels = 64;
  size_t max_samples = 50'000'000;   // over all channels
  size_t max_epochs = 7 * 24 * 120;  // a week of 30 s epochs
  size_t max_attributes = 256;
  size_t max_text = 4096;  // bytes of a text attribute
};

inline constexpr int64_t kEpochSeconds = 30;

// Fills the named fields (user, device, …) from r.attributes; kInvalidArgument naming the first
// missing or mistyped one.
Status take_required(RecordFile& r);

// keep_chunks: a channel whose dataset is float32 in 1-D chunks compressed by HDF5's gzip filter
// alone (the devices' files) comes back as those chunks, each checked to inflate whole but not
// kept inflated (decision 0022); any other channel comes back as samples.
Expected<RecordFile> read_record_file(const std::string& path, const RecordLimits& limits = {},
                                      bool keep_chunks = false);

}  // namespace vigil::records
