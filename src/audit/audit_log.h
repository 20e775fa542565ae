// The audit log: one record per API call (also rejected ones), written by a background batch
// writer through a bounded queue so a request never waits for it. When the writer falls behind
// and the queue is full, records are dropped and counted (vigil_audit_dropped_total) — the
// request is never blocked. The same records go to a JSON-lines access log file with rotation.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

#include "audit/rotating_file.h"
#include "core/metrics.h"
#include "core/status.h"
#include "store/database.h"

namespace vigil::audit {

struct AuditRecord {
  int64_t id = 0;  // set when read back
  std::chrono::system_clock::time_point at;
  std::string request_id;
  int64_t user_id = 0;  // 0: anonymous
  std::string user_email;
  std::string method;
  std::string path;
  int status = 0;
  int64_t latency_us = 0;
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  std::string ip;
};

// Text the writer formats through a raw pointer into room that stays made, so growing it does
// not zero-fill again for every record (as std::string::resize would): buf's size is the room,
// len what is written.
struct TextScratch {
  std::string buf;
  size_t len = 0;
  std::string_view view() const { return {buf.data(), len}; }
  // Empties it for the next text; room a burst grew past `keep` is given back.
  void restart(size_t keep = 4u << 20) {
    len = 0;
    if (buf.size() > keep) buf = {};
  }
};

struct AuditOptions {
  bool store = true;              // write records to the database
  size_t queue_capacity = 65536;  // records waiting; beyond this they are dropped
  size_t batch_size = 1024;       // records waiting that wake the writer before the tick
  std::chrono::milliseconds flush_interval{100};
  std::string access_log_file;  // JSON lines; empty: none
  int access_log_max_mb = 64;
  int access_log_max_files = 5;
};

class AuditWriter {
 public:
  AuditWriter(store::Database& db, AuditOptions options, MetricsRegistry& metrics);
  ~AuditWriter();  // stops, writing what is queued
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  Status start();
  // Never blocks on I/O. Thread-safe.
  void submit(AuditRecord&& record);
  void submit(const AuditRecord& record) { submit(AuditRecord(record)); }
  // Blocks until every record submitted before the call is written (or dropped).
  void flush();
  void stop();

 private:
  void run();
  void write_batch(std::vector<AuditRecord>& batch);

  store::Database& db_;
  const AuditOptions options_;
  Counter& written_;
  Counter& dropped_;
  Counter& failed_;
  Gauge& depth_;
  std::unique_ptr<RotatingFile> access_log_;
  TextScratch access_lines_;  // one batch of access-log lines
  TextScratch columns_;       // one segment's columns
  struct Segment {
    std::string text;  // JSON array
    int64_t first_at = 0, last_at = 0;
    size_t count = 0;
  };
  std::vector<Segment> segments_;  // one batch's segments

  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<AuditRecord> pending_;
  uint64_t submitted_ = 0;  // accepted into the queue
  uint64_t handled_ = 0;    // written or failed
  int flush_waiters_ = 0;   // flush() calls waiting: write now instead of at the next tick
  bool stopping_ = false;
  std::thread thread_;
};

// Records are stored a segment at a time (a row of audit_segments: a JSON array of up to
// kSegmentRecords records, one per batch the writer commits). A record's id is its segment's id
// shifted left by kRecordIdShift, plus its position in the segment.
inline constexpr size_t kSegmentRecords = 8192;
inline constexpr int kRecordIdShift = 16;
// One query_audit call reads at most this many records (about 0.2 s of work) before answering.
inline constexpr size_t kMaxScannedRecords = 200000;
inline constexpr int kSegmentsPerRead = 4;

struct AuditQuery {
  std::optional<int64_t> user_id;
  std::optional<std::string> user_email;
  std::optional<std::string> method;
  std::optional<std::string> path_prefix;
  std::optional<int> status;
  std::optional<std::chrono::system_clock::time_point> since;  // at >= since
  std::optional<std::chrono::system_clock::time_point> until;  // at < until
  std::optional<int64_t> before_id;                            // cursor: newest first
  int limit = 50;
  size_t max_scanned = kMaxScannedRecords;
};

struct AuditPage {
  std::vector<AuditRecord> items;      // up to limit; fewer when kMaxScannedRecords ran out
  std::optional<int64_t> next_before;  // the next page: records with ids below this
};

Expected<AuditPage> query_audit(store::Database& db, const AuditQuery& query);

// A segment's records, as audit_segments.records holds them. Format 1: a JSON array of the
// access log's objects. Format 2 (what the writer writes): one JSON object of columns, a fifth
// the size — {"v":2,"t0":µs,"at":[µs after t0],"rid":[..],"u":[0: anonymous, k: users[k-1]],
// "users":[[id,"email"]],"m":[k],"methods":[..],"p":[k],"paths":[..],"s":[..],"lat":[..],
// "in":[..],"out":[..],"ip":[k],"ips":[..]}.
inline constexpr int kSegmentFormat = 2;
// Appends records (format 2) to out.
void append_segment_columns(TextScratch& out, const std::vector<const AuditRecord*>& records);
void append_segment_columns(std::string& out, const std::vector<const AuditRecord*>& records);
// Either format; nullopt when text is neither (a corrupt or foreign segment).
std::optional<std::vector<AuditRecord>> decode_segment(std::string_view text);

// {"at":..,"request_id":..,...} — the access-log line and the API representation share it.
std::string audit_record_json(const AuditRecord& r);
// The other way; fields that are missing or of the wrong type are left at their defaults.
AuditRecord audit_record_from_json(const boost::json::object& o);
// The same, appended to out, with `at` already formatted (the writer formats it once).
void append_audit_record_json(TextScratch& out, const AuditRecord& r, std::string_view at);

}  // namespace vigil::audit
