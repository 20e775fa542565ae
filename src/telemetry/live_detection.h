// LiveDetection: the anomaly level of every stored point as it arrives (PRODUCT.md slice 4),
// off the ingest path. TelemetryService::stored hands each stored batch to offer(), which only
// queues it; detection threads (a sensor always on the same one) judge the points with a
// per-sensor detect::LevelDetector and tell the hooks: every judged batch (the sensor's live
// events), and each change of level (a level event, a detector alarm).
//
// State per sensor: a detector primed from the store (TelemetryService::primed) at its first
// point after a start or a reset, so a restart goes on where the stored series is; the newest
// judged time. A point at or before that time (sent out of order, or again) is stored but not
// judged live: GET …/anomalies recomputes the levels of a range from the stored series.
//
// Falling behind (docs/decisions/0019-live-detection.md): the queue holds at most
// max_queued_points points. A batch that does not fit is not queued; its sensor is marked behind
// (one marker in the queue, spanning the times it missed), and every later batch of that sensor
// only widens the marker until the thread reaches it: then the thread reads the missed span back
// from the store and judges it in order. No point goes unjudged; ingest never waits for
// detection. Detection threads run at a lower scheduling priority than the server's others, so
// under a flood ingest keeps its pace and detection catches up afterwards.
//
// At most max_sensors states are kept; the least recently fed beyond that is dropped (and
// primed again from the store at its next point).
//
// Thread safety: offer(), reset(), drain() and stats() from any thread. Hooks run on a detection
// thread, one sensor's calls in time order; they may block on the store (a detector alarm).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "detect/level_detector.h"
#include "telemetry/telemetry_service.h"

namespace vigil {
class MetricsRegistry;
}

namespace vigil::telemetry {

struct LiveHooks {
  // The points of one sensor just judged, in time order.
  std::function<void(const Sensor&, std::span<const JudgedPoint>)> judged;
  // The level changed at `point`, from `previous`; before the judged() call of its batch.
  std::function<void(const Sensor&, const JudgedPoint& point, detect::Level previous)> changed;
};

struct LiveOptions {
  int threads = 1;
  size_t max_queued_points = 1'000'000;  // over all threads (16 bytes a point)
  size_t max_sensors = 20'000;           // detector states kept (~50 KB each)
  int nice = 5;                          // added to the threads' scheduling priority (Linux)
};

class LiveDetection {
 public:
  // `metrics`: vigil_detect_points_total, vigil_detect_queued_points, vigil_detect_behind_total.
  LiveDetection(TelemetryService& service, LiveOptions options, LiveHooks hooks,
                MetricsRegistry* metrics = nullptr);
  ~LiveDetection();  // stop()
  LiveDetection(const LiveDetection&) = delete;
  LiveDetection& operator=(const LiveDetection&) = delete;

  void start();
  // Judges what is queued, then joins the threads; offers after stop are dropped.
  void stop();

  // Queues a stored batch of one sensor (its points in time order, taken over); never blocks on
  // the store.
  void offer(const Sensor& sensor, std::vector<Point> points);
  // The sensor changed (settings, baseline) or went: its state is dropped, in order with its
  // points (the next one primes it again from the store).
  void reset(int64_t sensor_id);
  // Returns once everything offered before the call has been judged (tests; a running start()).
  void drain();

  struct Stats {
    int64_t judged = 0;   // points judged
    int64_t behind = 0;   // times a sensor fell behind (a batch read back from the store)
    int64_t sensors = 0;  // states kept
  };
  Stats stats() const;

 private:
  struct Shard;
  Shard& shard_of(int64_t sensor_id);

  TelemetryService& service_;
  LiveOptions options_;
  LiveHooks hooks_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace vigil::telemetry
