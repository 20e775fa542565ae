#include "telemetry/live_detection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <limits>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/metrics.h"
#include "core/thread_name.h"

namespace vigil::telemetry {

struct LiveDetection::Shard {
  struct Item {
    enum class Kind { kPoints, kBehind, kReset, kDrain };
    Kind kind = Kind::kPoints;
    int64_t sensor_id = 0;
    Sensor sensor;               // kPoints
    std::vector<Point> points;   // kPoints
    std::promise<void>* done{};  // kDrain
  };
  struct Missed {  // a sensor behind: the span of times it missed
    Sensor sensor;
    int64_t from_ms = std::numeric_limits<int64_t>::max();
    int64_t to_ms = std::numeric_limits<int64_t>::min();
  };
  struct State {
    Sensor sensor;
    detect::LevelDetector detector;
    int64_t last_at = std::numeric_limits<int64_t>::min();
    std::list<int64_t>::iterator lru;
  };

  // Guarded by mu.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> queue;
  size_t queued_points = 0;
  std::unordered_map<int64_t, Missed> behind;
  bool running = false;
  bool stopping = false;

  // The thread's own.
  std::thread thread;
  std::unordered_map<int64_t, State> states;
  std::list<int64_t> lru;  // most recently fed first

  size_t max_points = 0;
  size_t max_states = 0;
  std::atomic<int64_t> judged{0}, fell_behind{0}, kept{0};
  Counter* points_metric = nullptr;
  Gauge* queued_metric = nullptr;
  Counter* behind_metric = nullptr;
};

LiveDetection::LiveDetection(TelemetryService& service, LiveOptions options, LiveHooks hooks,
                             MetricsRegistry* metrics)
    : service_(service), options_(options), hooks_(std::move(hooks)) {
  const int threads = std::max(1, options_.threads);
  for (int i = 0; i < threads; ++i) {
    auto s = std::make_unique<Shard>();
    s->max_points = std::max<size_t>(1, options_.max_queued_points / static_cast<size_t>(threads));
    s->max_states = std::max<size_t>(1, options_.max_sensors / static_cast<size_t>(threads));
    if (metrics) {
      s->points_metric =
          &metrics->counter("vigil_detect_points_total", "Points judged by live detection");
      s->queued_metric = &metrics->gauge("vigil_detect_queued_points",
                                         "Points waiting for live detection (all threads)");
      s->behind_metric = &metrics->counter(
          "vigil_detect_behind_total",
          "Times live detection's queue was full and a sensor's points were read back later");
    }
    shards_.push_back(std::move(s));
  }
}

LiveDetection::~LiveDetection() { stop(); }

LiveDetection::Shard& LiveDetection::shard_of(int64_t sensor_id) {
  return *shards_[static_cast<size_t>(sensor_id) % shards_.size()];
}

void LiveDetection::offer(const Sensor& sensor, std::vector<Point> points) {
  if (points.empty()) return;
  Shard& s = shard_of(sensor.id);
  std::lock_guard lock(s.mu);
  if (!s.running) return;
  auto widen = [&](Shard::Missed& m) {
    m.sensor = sensor;
    m.from_ms = std::min(m.from_ms, points.front().at_ms);
    m.to_ms = std::max(m.to_ms, points.back().at_ms);
  };
  if (auto it = s.behind.find(sensor.id); it != s.behind.end()) return widen(it->second);
  if (s.queued_points + points.size() > s.max_points) {
    widen(s.behind[sensor.id]);
    s.queue.push_back({.kind = Shard::Item::Kind::kBehind, .sensor_id = sensor.id});
    s.fell_behind.fetch_add(1, std::memory_order_relaxed);
    if (s.behind_metric) s.behind_metric->inc();
  } else {
    s.queue.push_back({.kind = Shard::Item::Kind::kPoints,
                       .sensor_id = sensor.id,
                       .sensor = sensor,
                       .points = std::move(points)});
    const size_t n = s.queue.back().points.size();
    s.queued_points += n;
    if (s.queued_metric) s.queued_metric->add(static_cast<int64_t>(n));
  }
  s.cv.notify_one();
}

void LiveDetection::reset(int64_t sensor_id) {
  Shard& s = shard_of(sensor_id);
  std::lock_guard lock(s.mu);
  if (!s.running) return;
  s.queue.push_back({.kind = Shard::Item::Kind::kReset, .sensor_id = sensor_id});
  s.cv.notify_one();
}

void LiveDetection::drain() {
  std::vector<std::promise<void>> done(shards_.size());
  std::vector<std::future<void>> waits;
  for (size_t i = 0; i < shards_.size(); ++i) {
    Shard& s = *shards_[i];
    std::lock_guard lock(s.mu);
    if (!s.running) continue;
    waits.push_back(done[i].get_future());
    s.queue.push_back({.kind = Shard::Item::Kind::kDrain, .done = &done[i]});
    s.cv.notify_one();
  }
  for (auto& w : waits) w.wait();
}

LiveDetection::Stats LiveDetection::stats() const {
  Stats out;
  for (const auto& s : shards_) {
    out.judged += s->judged.load(std::memory_order_relaxed);
    out.behind += s->fell_behind.load(std::memory_order_relaxed);
    out.sensors += s->kept.load(std::memory_order_relaxed);
  }
  return out;
}

namespace {

// Judges the points after the state's newest time, in order, and tells the hooks.
void judge(const LiveHooks& hooks, const Sensor& sensor, detect::LevelDetector& detector,
           int64_t& last_at, std::span<const Point> points, std::vector<JudgedPoint>& out) {
  out.clear();
  for (const Point& p : points) {
    if (p.at_ms <= last_at) continue;  // out of order, or again: stored, not judged live
    const detect::Level previous = detector.level();
    const detect::Judged j = detector.push(p.value);
    out.push_back({p, j.level, j.percent});
    last_at = p.at_ms;
    if (j.changed && hooks.changed) hooks.changed(sensor, out.back(), previous);
  }
  if (!out.empty() && hooks.judged) hooks.judged(sensor, out);
}

}  // namespace

void LiveDetection::start() {
  for (auto& shard : shards_) {
    Shard& s = *shard;
    {
      std::lock_guard lock(s.mu);
      if (s.running) continue;
      s.running = true;
      s.stopping = false;
    }
    s.thread = std::thread([this, &s] {
      set_thread_name("vigil-detect");
      lower_thread_priority(options_.nice);
      std::vector<JudgedPoint> out;
      // The sensor's state, primed from the store before `first_at` when it has none.
      auto state_for = [&](const Sensor& sensor, int64_t first_at) -> Shard::State* {
        if (auto it = s.states.find(sensor.id); it != s.states.end()) {
          s.lru.splice(s.lru.begin(), s.lru, it->second.lru);
          it->second.sensor = sensor;
          return &it->second;
        }
        auto d = service_.primed(
            sensor, first_at == std::numeric_limits<int64_t>::min() ? first_at : first_at - 1);
        if (!d.ok()) {
          spdlog::warn("detect: sensor {}: cannot read its history, points not judged live: {}",
                       sensor.name, d.status().to_string());
          return nullptr;
        }
        s.lru.push_front(sensor.id);
        auto [it, added] = s.states.emplace(
            sensor.id, Shard::State{sensor, std::move(*d), std::numeric_limits<int64_t>::min(),
                                    s.lru.begin()});
        while (s.states.size() > s.max_states) {
          s.states.erase(s.lru.back());
          s.lru.pop_back();
        }
        s.kept.store(static_cast<int64_t>(s.states.size()), std::memory_order_relaxed);
        return &it->second;
      };
      for (;;) {
        Shard::Item item;
        {
          std::unique_lock lock(s.mu);
          s.cv.wait(lock, [&] { return s.stopping || !s.queue.empty(); });
          if (s.queue.empty()) break;  // stopping, and everything queued judged
          item = std::move(s.queue.front());
          s.queue.pop_front();
          s.queued_points -= item.points.size();
          if (s.queued_metric) s.queued_metric->add(-static_cast<int64_t>(item.points.size()));
        }
        switch (item.kind) {
          case Shard::Item::Kind::kDrain: item.done->set_value(); break;
          case Shard::Item::Kind::kReset:
            if (auto it = s.states.find(item.sensor_id); it != s.states.end()) {
              s.lru.erase(it->second.lru);
              s.states.erase(it);
              s.kept.store(static_cast<int64_t>(s.states.size()), std::memory_order_relaxed);
            }
            break;
          case Shard::Item::Kind::kPoints:
            if (Shard::State* st = state_for(item.sensor, item.points.front().at_ms)) {
              judge(hooks_, item.sensor, st->detector, st->last_at, item.points, out);
              s.judged.fetch_add(static_cast<int64_t>(out.size()), std::memory_order_relaxed);
              if (s.points_metric) s.points_metric->inc(out.size());
            }
            break;
          case Shard::Item::Kind::kBehind: {
            Shard::Missed missed;
            {
              std::lock_guard lock(s.mu);
              auto it = s.behind.find(item.sensor_id);
              if (it == s.behind.end()) break;
              missed = std::move(it->second);
              s.behind.erase(it);
            }
            Shard::State* st = state_for(missed.sensor, missed.from_ms);
            if (!st) break;
            auto points = service_.series().read(
                missed.sensor.id, std::max(missed.from_ms, st->last_at), missed.to_ms);
            if (!points.ok()) {
              spdlog::warn("detect: sensor {}: cannot read the points it missed: {}",
                           missed.sensor.name, points.status().to_string());
              break;
            }
            judge(hooks_, missed.sensor, st->detector, st->last_at, *points, out);
            s.judged.fetch_add(static_cast<int64_t>(out.size()), std::memory_order_relaxed);
            if (s.points_metric) s.points_metric->inc(out.size());
            break;
          }
        }
      }
    });
  }
}

void LiveDetection::stop() {
  for (auto& shard : shards_) {
    Shard& s = *shard;
    {
      std::lock_guard lock(s.mu);
      if (!s.running) continue;
      s.running = false;
      s.stopping = true;
    }
    s.cv.notify_all();
    if (s.thread.joinable()) s.thread.join();
    s.states.clear();
    s.lru.clear();
  }
}

}  // namespace vigil::telemetry
