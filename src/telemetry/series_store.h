// SeriesStore: sensors' points in the store, as compressed chunks (series_codec.h; the table
// series_chunks, migration 0016), so that every node of a cluster reads the same series.
//
// Writes: append() returns once the points are committed (durable: SQLite's WAL survives a
// killed process; PostgreSQL's commit). Concurrent appends share transactions (group commit: the
// first caller to find no write under way writes everything queued meanwhile in one), and each
// adds one chunk per sensor it carries (encoded on the caller's thread). A point sent again — same
// sensor and time — is stored once: the later write wins, in reads at once and on disk after the
// next compaction. Points may come in any order.
//
// Compaction merges a sensor's chunks that are not full (and any chunk they overlap in time,
// transitively) into full ones of Options::chunk_points, in one transaction; run it with
// compact(), or start() a thread that compacts the sensors this store appended to once they
// gather Options::compact_after small chunks, and applies each sensor's retention every
// Options::retention_every.
//
// Reads decode the chunks that reach into the range (index series_chunks_range), never rows of
// points. Thread-safe; every method blocks on the store (call it off the I/O threads). Errors:
// kInvalidArgument names the field ("from", "step", ...); kConflict when a sensor is gone
// (deleted meanwhile); kResourceExhausted when a read would exceed its limit; kUnavailable when the
// store is.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/status.h"
#include "store/database.h"
#include "telemetry/series_codec.h"

namespace vigil::telemetry {

struct SensorPoints {
  int64_t sensor_id = 0;
  std::vector<Point> points;  // any order; duplicates of a time: the last one counts
};

enum class Agg { kAvg, kMin, kMax, kLast, kCount };
std::optional<Agg> agg_from(std::string_view name);  // avg|min|max|last|count

struct Bucket {
  int64_t start_ms = 0;  // a multiple of the step (buckets are aligned to the epoch)
  double value = 0;      // the aggregate of the bucket's points
  int64_t count = 0;     // points in it (buckets without points are left out)
  bool operator==(const Bucket&) const = default;
};

class SeriesStore {
 public:
  struct Options {
    size_t chunk_points = 4096;  // a full chunk (compaction's target), ≤ kMaxChunkPoints
    size_t compact_after = 8;    // small chunks of a sensor before start()'s thread compacts it
    std::chrono::milliseconds retention_every{std::chrono::hours(1)};
    size_t max_read_points = 5'000'000;  // read()/aggregate() refuse ranges holding more
  };
  SeriesStore(store::Database& db, Options options);
  ~SeriesStore();
  SeriesStore(const SeriesStore&) = delete;
  SeriesStore& operator=(const SeriesStore&) = delete;

  // Stores every point; returns once they are committed.
  Status append(std::vector<SensorPoints> batch);

  // The sensor's points with from_ms ≤ at ≤ to_ms, in time order.
  Expected<std::vector<Point>> read(int64_t sensor_id, int64_t from_ms, int64_t to_ms);
  // The sensor's last `n` points at or before to_ms, in time order (the detector's history).
  Expected<std::vector<Point>> last(int64_t sensor_id, int64_t to_ms, size_t n);
  // The sensor's first `n` points, in time order (a learned baseline).
  Expected<std::vector<Point>> first(int64_t sensor_id, size_t n);
  // Buckets of step_ms (≥ 1) over [from_ms, to_ms]; at most 100 000 buckets.
  Expected<std::vector<Bucket>> aggregate(int64_t sensor_id, int64_t from_ms, int64_t to_ms,
                                          int64_t step_ms, Agg agg);

  struct Compacted {
    int64_t chunks_before = 0, chunks_after = 0, points = 0;
  };
  Expected<Compacted> compact(int64_t sensor_id);
  // Removes the chunks whose every point is older than their sensor's retention_days at `now`;
  // returns how many.
  Expected<int64_t> apply_retention(std::chrono::system_clock::time_point now);

  struct Usage {
    int64_t chunks = 0, points = 0, bytes = 0;  // bytes: the chunks' data
  };
  // Of one sensor, or of all (sensor_id 0). `points` counts stored points (before compaction a
  // point sent twice counts twice).
  Expected<Usage> usage(int64_t sensor_id = 0);

  // The compaction and retention thread; stop() (also at destruction) joins it.
  void start();
  void stop();

 private:
  struct Row {
    int64_t sensor_id, start_ms, end_ms, points;
    std::string data;
  };
  struct Pending {
    std::vector<Row> rows;
    Status status;
    bool done = false;
  };
  std::vector<Row> encode(std::vector<SensorPoints>& batch) const;
  // last() (newest) or first(): the n points at the newest (oldest) end up to to_ms.
  Expected<std::vector<Point>> end_points(int64_t sensor_id, int64_t to_ms, size_t n, bool newest);
  Status write_rows(const std::vector<Pending*>& group);
  void noted(const std::vector<Pending*>& group);
  void run();

  store::Database& db_;
  const Options options_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending*> queue_;  // guarded by mu_
  bool writing_ = false;         // guarded by mu_: a caller is writing a group

  std::mutex compact_mu_;
  std::condition_variable compact_cv_;
  std::map<int64_t, size_t> small_chunks_;  // guarded by compact_mu_: appended since compacted
  std::set<int64_t> due_;                   // guarded by compact_mu_
  bool stopping_ = false;                   // guarded by compact_mu_
  std::thread thread_;
};

}  // namespace vigil::telemetry
