// RecordStore: sleep records in the store (migration 0019): each record's fields, every root
// attribute (as a JSON object), its hypnogram with the time spent in each stage, its channels,
// and their samples in compressed chunks (signal_codec.h), so serving never opens a file and
// cluster nodes share them.
//
// insert() stores a parsed file in one transaction: it names the Vigil user by the file's `user`
// attribute (their username, ignoring case), registers the file's device when no device has its
// name (type "unknown"), and writes the record, its channels and its chunks. A file is stored
// once: its SHA-256 is unique.
//
// Thread-safe; every method blocks on the store. Errors: kFailedPrecondition when no user has
// the file's username (the reason names it); kInvalidArgument naming the field (device: a name
// the fleet would refuse); kAlreadyExists when a file with that SHA-256 is stored (the message
// names the record); kNotFound for an unknown record or channel; kUnavailable when the store is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "records/hypnogram.h"
#include "records/record_file.h"
#include "store/database.h"

namespace vigil::records {

struct ChannelInfo {
  int index = 0;  // in the file's order, from 0
  std::string modality, name;
  double fs = 0;
  std::string unit;
  int64_t samples = 0;
};

struct Record {
  int64_t id = 0;
  std::string sha256;   // hex
  int64_t user_id = 0;  // 0: the account went since
  std::string username;
  int64_t device_id = 0;  // 0: the device went since
  std::string device;
  std::string dreempy_version;
  int64_t start_time = 0, stop_time = 0, sleep_start_time = 0, sleep_stop_time = 0;  // Unix s
  double sleep_score = 0;
  int64_t number_of_stimulations = 0, number_of_wake = 0;
  std::string attributes;  // JSON object text: every root attribute
  SleepStats stats;
  std::vector<int8_t> hypnogram;  // filled when asked for
  std::vector<ChannelInfo> channels;
  std::string file_name;
  int64_t file_bytes = 0;
  std::string source;  // dropzone | upload
  std::string created_at;
  int64_t created_by = 0;  // 0: the collector
};

struct NewRecord {
  std::string sha256;
  std::string file_name;
  int64_t file_bytes = 0;
  std::string source = "dropzone";
  int64_t created_by = 0;
  // The uploader is this device's watchdog (0: anyone): a file of another device is refused,
  // kPermissionDenied.
  int64_t only_device = 0;
};

struct RecordFilter {
  // A username (ignoring case; also of an account gone since) or a user id as digits; a device
  // name (ignoring case).
  std::optional<std::string> user, device;
  std::optional<int64_t> from, to;  // start_time in [from, to), Unix seconds
  std::optional<double> min_score, max_score;
  int limit = 50;         // 1–1000
  int64_t before_id = 0;  // newest first; 0: from the newest
};

class RecordStore {
 public:
  explicit RecordStore(store::Database& db) : db_(db) {}

  // Stores `file` (taken: its kept chunks move into the store, no copy). Returns the record
  // without its hypnogram.
  Expected<Record> insert(RecordFile file, const NewRecord& meta);
  // The id of the record of that SHA-256, if stored.
  Expected<std::optional<int64_t>> find_sha256(std::string_view sha256);
  Expected<Record> get(int64_t id, bool with_hypnogram);
  // Without hypnograms.
  Expected<std::vector<Record>> list(const RecordFilter& filter);
  // A user's records lying wholly inside [from, to] (Unix s), by start time, with hypnograms;
  // at most `limit`.
  Expected<std::vector<Record>> within(int64_t user_id, int64_t from, int64_t to, int limit);
  // Samples [first, last) of a channel (clamped to what it holds), decoding only the chunks
  // that reach into them.
  Expected<std::vector<float>> samples(int64_t record_id, int channel, int64_t first, int64_t last);
  Status remove(int64_t id);

  // A user's id: their username (ignoring case) or their id as digits; kNotFound naming it when
  // no account has it.
  Expected<int64_t> user_id(std::string_view user);

 private:
  store::Database& db_;
};

}  // namespace vigil::records
