// RecordService: the one path a sleep-record file takes into the store, whether the collector
// found it in the drop folder or it was uploaded (POST /api/v1/records): hash it, parse it in a
// child process (record_parser.h, decision 0020; the service keeps them between files), store it
// (record_store.h). And what serving needs beyond the store: a channel's samples downsampled to
// their min/max envelope.
//
// Thread-safe: any number of ingests run at once (each parses in its own child; SQLite
// serialises their writes). Every method blocks: never call one on an I/O thread.
//
// ingest() errors, by whose fault:
// - the file's (refuse it; the collector quarantines it with the message as its reason):
//   kInvalidArgument (not a record, damaged, the parser crashed or ran out of time: the message
//   says which), kResourceExhausted (past a limit), kFailedPrecondition (no user has the file's
//   username), kPermissionDenied (a watchdog's upload of another device's file);
// - none: kAlreadyExists, the file is stored already (the message names the record);
// - the server's (try again later; the file stays): kUnavailable (the parser could not start,
//   the store is down), kInternal.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/metrics.h"
#include "records/collector.h"
#include "records/envelope.h"
#include "records/record_parser.h"
#include "records/record_store.h"

namespace vigil::records {

struct IngestRequest {
  std::string path;                 // the file, readable by this process
  std::string file_name;            // its name as the user gave it
  std::string source = "dropzone";  // or upload
  int64_t by_user = 0;              // the uploader; 0: the collector
  int64_t only_device = 0;          // the uploader is this device's watchdog (NewRecord)
};

struct SignalView {
  Record record;  // without its hypnogram
  ChannelInfo channel;
  int64_t first = 0, last = 0;  // the samples [first, last) the range covers
  Envelope envelope;
};

// Every file's parse and store times go into these (any may be null).
struct RecordMetrics {
  Counter* stored = nullptr;
  Counter* duplicates = nullptr;
  Counter* refused = nullptr;
  Counter* failed = nullptr;  // the server's fault
  Histogram* seconds = nullptr;
  static RecordMetrics in(MetricsRegistry& registry);
};

class RecordService {
 public:
  RecordService(store::Database& db, ParserOptions parser, RecordMetrics metrics = {});

  Expected<Record> ingest(const IngestRequest& request);

  // The collector's Processor (collector.h): ingest() of a claimed file, its outcome sorted by
  // whose fault it is (the file's: refused with the reason; the server's: tried again).
  Outcome collect(const std::filesystem::path& claimed, const std::string& original_name);

  // The samples of `channel` (its name, or its index as digits) between from_ms and to_ms
  // (epoch milliseconds; absent: the record's ends), as at most max_points buckets.
  Expected<SignalView> signal(int64_t record_id, std::string_view channel,
                              std::optional<int64_t> from_ms, std::optional<int64_t> to_ms,
                              size_t max_points);

  // Told of each record stored (set before the first ingest; called on the ingesting thread).
  std::function<void(const Record&)> on_stored;

  RecordStore& store() { return store_; }
  const ParserOptions& parser() const { return parser_.options(); }

 private:
  RecordStore store_;
  RecordParser parser_;
  RecordMetrics metrics_;
};

// The SHA-256 of a file's content, hex; kNotFound / kUnavailable when it cannot be read.
Expected<std::string> sha256_file(const std::string& path);

}  // namespace vigil::records
