#include "telemetry/series_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "core/thread_name.h"

namespace vigil::telemetry {
namespace {

using store::Value;
constexpr size_t kRowsPerInsert = 200;
constexpr int64_t kMaxBuckets = 100'000;
constexpr int64_t kDayMs = 86'400'000;

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

struct ChunkMeta {
  int64_t id, start_ms, end_ms, points;
};

Expected<std::vector<ChunkMeta>> chunks_in(store::Session& s, int64_t sensor_id, int64_t from,
                                           int64_t to) {
  std::vector<Value> p{sensor_id, from, to};
  auto rows = s.query(
      "SELECT id, start_ms, end_ms, points FROM series_chunks WHERE sensor_id = $1 AND "
      "end_ms >= $2 AND start_ms <= $3 ORDER BY id",
      p);
  if (!rows.ok()) return rows.status();
  std::vector<ChunkMeta> out;
  out.reserve(rows->size());
  for (size_t r = 0; r < rows->size(); ++r) {
    out.push_back(
        {rows->get_int(r, 0), rows->get_int(r, 1), rows->get_int(r, 2), rows->get_int(r, 3)});
  }
  return out;
}

// The points of the chunks with these ids, in id order, merged (normalize(): later ids win).
Expected<std::vector<Point>> load(store::Session& s, const std::vector<ChunkMeta>& chunks) {
  std::vector<Point> out;
  size_t total = 0;
  for (const ChunkMeta& c : chunks) total += static_cast<size_t>(c.points);
  out.reserve(total);
  bool sorted = true;
  for (size_t at = 0; at < chunks.size(); at += kRowsPerInsert) {
    const size_t n = std::min(kRowsPerInsert, chunks.size() - at);
    std::string sql = "SELECT id, data FROM series_chunks WHERE id IN (";
    std::vector<Value> p;
    for (size_t i = 0; i < n; ++i) {
      sql += (i ? ",$" : "$") + std::to_string(i + 1);
      p.emplace_back(chunks[at + i].id);
    }
    sql += ") ORDER BY id";
    auto rows = s.query(sql, p);
    if (!rows.ok()) return rows.status();
    for (size_t r = 0; r < rows->size(); ++r) {
      const size_t before = out.size();
      if (Status st = decode_chunk(rows->get_blob(r, 1), out); !st.ok()) {
        // A damaged chunk: its points are lost to reads, the rest of the series is not.
        spdlog::error("telemetry: series chunk {} is unreadable: {}", rows->get_int(r, 0),
                      st.to_string());
        continue;
      }
      if (before > 0 && before < out.size() && out[before].at_ms <= out[before - 1].at_ms) {
        sorted = false;
      }
    }
  }
  if (!sorted) normalize(out);
  return out;
}

}  // namespace

std::optional<Agg> agg_from(std::string_view name) {
  if (name == "avg") return Agg::kAvg;
  if (name == "min") return Agg::kMin;
  if (name == "max") return Agg::kMax;
  if (name == "last") return Agg::kLast;
  if (name == "count") return Agg::kCount;
  return std::nullopt;
}

SeriesStore::SeriesStore(store::Database& db, Options options) : db_(db), options_(options) {}

SeriesStore::~SeriesStore() { stop(); }

std::vector<SeriesStore::Row> SeriesStore::encode(std::vector<SensorPoints>& batch) const {
  // One sensor may come in several entries: gather them (in order, so the last point wins).
  std::map<int64_t, std::vector<Point>> by_sensor;
  for (SensorPoints& sp : batch) {
    auto& v = by_sensor[sp.sensor_id];
    if (v.empty()) {
      v = std::move(sp.points);
    } else {
      v.insert(v.end(), sp.points.begin(), sp.points.end());
    }
  }
  std::vector<Row> rows;
  for (auto& [sensor, points] : by_sensor) {
    normalize(points);
    for (size_t at = 0; at < points.size(); at += options_.chunk_points) {
      const size_t n = std::min(options_.chunk_points, points.size() - at);
      std::span<const Point> part(points.data() + at, n);
      rows.push_back({sensor, part.front().at_ms, part.back().at_ms, static_cast<int64_t>(n),
                      encode_chunk(part)});
    }
  }
  return rows;
}

Status SeriesStore::append(std::vector<SensorPoints> batch) {
  Pending me{encode(batch), {}, false};
  if (me.rows.empty()) return {};
  std::unique_lock lock(mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (writing_) {
      cv_.wait(lock);
      continue;
    }
    // Lead: write everything queued in one transaction, until this caller's own is written.
    writing_ = true;
    while (!me.done) {
      std::vector<Pending*> group;
      group.swap(queue_);
      lock.unlock();
      Status s = write_rows(group);
      if (!s.ok() && group.size() > 1 && s.code() != ErrorCode::kUnavailable) {
        // One caller's rows failed the group (its sensor was deleted meanwhile): alone, each
        // gets its own answer.
        for (Pending* p : group) p->status = write_rows({p});
      } else {
        for (Pending* p : group) p->status = s;
      }
      lock.lock();
      for (Pending* p : group) p->done = true;
      if (s.ok()) noted(group);
      cv_.notify_all();
    }
    writing_ = false;
    cv_.notify_all();  // a waiting caller leads the next group
  }
  return me.status;
}

Status SeriesStore::write_rows(const std::vector<Pending*>& group) {
  return db_.write([&](store::Session& s) -> Status {
    std::vector<const Row*> all;
    for (const Pending* p : group) {
      for (const Row& r : p->rows) all.push_back(&r);
    }
    for (size_t at = 0; at < all.size(); at += kRowsPerInsert) {
      const size_t n = std::min(kRowsPerInsert, all.size() - at);
      std::string sql =
          "INSERT INTO series_chunks (sensor_id, start_ms, end_ms, points, data) VALUES ";
      std::vector<Value> p;
      p.reserve(n * 5);
      for (size_t i = 0; i < n; ++i) {
        const Row& r = *all[at + i];
        const size_t b = p.size();
        sql += (i ? ",($" : "($") + std::to_string(b + 1) + ",$" + std::to_string(b + 2) + ",$" +
               std::to_string(b + 3) + ",$" + std::to_string(b + 4) + ",$" + std::to_string(b + 5) +
               ")";
        p.emplace_back(r.sensor_id);
        p.emplace_back(r.start_ms);
        p.emplace_back(r.end_ms);
        p.emplace_back(r.points);
        p.emplace_back(store::Blob{r.data});
      }
      auto done = s.exec(sql, p);
      if (!done.ok()) {
        if (done.status().code() == ErrorCode::kConflict) {
          return conflict("a sensor of these points was deleted");
        }
        return done.status();
      }
    }
    return {};
  });
}

// Counts the small chunks appended per sensor; the thread compacts those past compact_after.
void SeriesStore::noted(const std::vector<Pending*>& group) {
  bool wake = false;
  {
    std::lock_guard lock(compact_mu_);
    for (const Pending* p : group) {
      if (!p->status.ok()) continue;
      for (const Row& r : p->rows) {
        if (static_cast<size_t>(r.points) >= options_.chunk_points) continue;
        if (++small_chunks_[r.sensor_id] >= options_.compact_after &&
            due_.insert(r.sensor_id).second) {
          wake = true;
        }
      }
    }
  }
  if (wake) compact_cv_.notify_one();
}

Expected<std::vector<Point>> SeriesStore::read(int64_t sensor_id, int64_t from_ms, int64_t to_ms) {
  if (from_ms > to_ms) return invalid_field("from", "must not be after to");
  return store::read_returning<std::vector<Point>>(
      db_, [&](store::Session& s) -> Expected<std::vector<Point>> {
        auto chunks = chunks_in(s, sensor_id, from_ms, to_ms);
        if (!chunks.ok()) return chunks.status();
        int64_t total = 0;
        for (const ChunkMeta& c : *chunks) total += c.points;
        if (static_cast<size_t>(total) > options_.max_read_points) {
          return Status(ErrorCode::kResourceExhausted,
                        "the range holds more than " + std::to_string(options_.max_read_points) +
                            " points: ask for a shorter one, or for buckets");
        }
        auto points = load(s, *chunks);
        if (!points.ok()) return points.status();
        auto lo = std::lower_bound(points->begin(), points->end(), from_ms,
                                   [](const Point& p, int64_t t) { return p.at_ms < t; });
        auto hi = std::upper_bound(points->begin(), points->end(), to_ms,
                                   [](int64_t t, const Point& p) { return t < p.at_ms; });
        points->erase(hi, points->end());
        points->erase(points->begin(), lo);
        return points;
      });
}

Expected<std::vector<Point>> SeriesStore::last(int64_t sensor_id, int64_t to_ms, size_t n) {
  return end_points(sensor_id, to_ms, n, true);
}

Expected<std::vector<Point>> SeriesStore::first(int64_t sensor_id, size_t n) {
  return end_points(sensor_id, std::numeric_limits<int64_t>::max(), n, false);
}

Expected<std::vector<Point>> SeriesStore::end_points(int64_t sensor_id, int64_t to_ms, size_t n,
                                                     bool newest) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (n == 0) return std::vector<Point>{};
  // The newest (oldest) chunks holding n points, then the range they span, read; chunks sent
  // twice hold fewer distinct points, so when the range has fewer, twice as many chunks.
  const std::string sql =
      newest ? "SELECT start_ms, points FROM series_chunks WHERE sensor_id = $1 AND start_ms <= $2 "
               "ORDER BY end_ms DESC"
             : "SELECT end_ms, points FROM series_chunks WHERE sensor_id = $1 AND start_ms <= $2 "
               "ORDER BY start_ms";
  size_t want = n;
  for (int round = 0; round < 8; ++round, want *= 2) {
    // The far end of the range (nullopt: fewer points than wanted in all: the whole series).
    auto edge = store::read_returning<std::optional<int64_t>>(
        db_, [&](store::Session& s) -> Expected<std::optional<int64_t>> {
          std::vector<Value> p{sensor_id, to_ms};
          auto rows = s.query(sql, p);
          if (!rows.ok()) return rows.status();
          int64_t got = 0, far = newest ? to_ms : kMin;
          for (size_t r = 0; r < rows->size(); ++r) {
            got += rows->get_int(r, 1);
            far = newest ? std::min(far, rows->get_int(r, 0)) : std::max(far, rows->get_int(r, 0));
            if (static_cast<size_t>(got) >= want) return std::optional<int64_t>(far);
          }
          return std::optional<int64_t>();
        });
    if (!edge.ok()) return edge.status();
    auto points = newest ? read(sensor_id, edge->value_or(kMin), to_ms)
                         : read(sensor_id, kMin, edge->value_or(to_ms));
    if (!points.ok()) return points.status();
    if (points->size() >= n || !*edge || round == 7) {
      if (points->size() > n) {
        const auto cut = static_cast<ptrdiff_t>(n);
        if (newest) {
          points->erase(points->begin(), points->end() - cut);
        } else {
          points->erase(points->begin() + cut, points->end());
        }
      }
      return points;
    }
  }
  return std::vector<Point>{};  // (not reached)
}

Expected<std::vector<Bucket>> SeriesStore::aggregate(int64_t sensor_id, int64_t from_ms,
                                                     int64_t to_ms, int64_t step_ms, Agg agg) {
  if (step_ms < 1) return invalid_field("step", "must be at least 1 ms");
  if (from_ms > to_ms) return invalid_field("from", "must not be after to");
  if ((static_cast<double>(to_ms) - static_cast<double>(from_ms)) / static_cast<double>(step_ms) >
      static_cast<double>(kMaxBuckets)) {
    return invalid_field("step", "more than " + std::to_string(kMaxBuckets) +
                                     " buckets: ask for a larger step or a shorter range");
  }
  auto points = read(sensor_id, from_ms, to_ms);
  if (!points.ok()) return points.status();
  std::vector<Bucket> out;
  double sum = 0;
  for (const Point& p : *points) {
    const int64_t start = floor_div(p.at_ms, step_ms) * step_ms;
    if (out.empty() || out.back().start_ms != start) {
      if (agg == Agg::kAvg && !out.empty()) out.back().value = sum / out.back().count;
      out.push_back({start, p.value, 0});
      sum = 0;
    }
    Bucket& b = out.back();
    ++b.count;
    sum += p.value;
    switch (agg) {
      case Agg::kMin: b.value = std::min(b.value, p.value); break;
      case Agg::kMax: b.value = std::max(b.value, p.value); break;
      case Agg::kLast: b.value = p.value; break;
      case Agg::kCount: b.value = static_cast<double>(b.count); break;
      case Agg::kAvg: break;
    }
  }
  if (agg == Agg::kAvg && !out.empty()) out.back().value = sum / out.back().count;
  return out;
}

Expected<SeriesStore::Compacted> SeriesStore::compact(int64_t sensor_id) {
  auto done = store::write_returning<Compacted>(db_, [&](store::Session& s) -> Expected<Compacted> {
    std::vector<Value> id{sensor_id};
    if (db_.dialect() == store::Dialect::kPostgres) {
      // One compaction of a sensor at a time across nodes (SQLite has one writer anyway).
      auto locked = s.query("SELECT id FROM sensors WHERE id = $1 FOR UPDATE", id);
      if (!locked.ok()) return locked.status();
    }
    std::vector<Value> p{sensor_id, static_cast<int64_t>(options_.chunk_points)};
    auto small = s.query(
        "SELECT MIN(start_ms), MAX(end_ms), COUNT(*) FROM series_chunks WHERE sensor_id = $1 AND "
        "points < $2",
        p);
    if (!small.ok()) return small.status();
    if (small->get_int(0, 2) == 0) return Compacted{};
    // The small chunks' range, widened until no chunk outside it overlaps it.
    int64_t lo = small->get_int(0, 0), hi = small->get_int(0, 1);
    std::vector<ChunkMeta> chunks;
    for (;;) {
      auto c = chunks_in(s, sensor_id, lo, hi);
      if (!c.ok()) return c.status();
      chunks = std::move(*c);
      int64_t nlo = lo, nhi = hi;
      for (const ChunkMeta& m : chunks)
        nlo = std::min(nlo, m.start_ms), nhi = std::max(nhi, m.end_ms);
      if (nlo == lo && nhi == hi) break;
      lo = nlo;
      hi = nhi;
    }
    if (chunks.size() < 2) return Compacted{1, 1, chunks.empty() ? 0 : chunks[0].points};
    auto points = load(s, chunks);
    if (!points.ok()) return points.status();
    Compacted out{static_cast<int64_t>(chunks.size()), 0, static_cast<int64_t>(points->size())};
    for (size_t at = 0; at < chunks.size(); at += kRowsPerInsert) {
      const size_t n = std::min(kRowsPerInsert, chunks.size() - at);
      std::string sql = "DELETE FROM series_chunks WHERE id IN (";
      std::vector<Value> ids;
      for (size_t i = 0; i < n; ++i) {
        sql += (i ? ",$" : "$") + std::to_string(i + 1);
        ids.emplace_back(chunks[at + i].id);
      }
      VIGIL_RETURN_IF_ERROR(s.exec(sql + ")", ids).status());
    }
    for (size_t at = 0; at < points->size(); at += options_.chunk_points) {
      const size_t n = std::min(options_.chunk_points, points->size() - at);
      std::span<const Point> part(points->data() + at, n);
      std::vector<Value> row{sensor_id, part.front().at_ms, part.back().at_ms,
                             static_cast<int64_t>(n), store::Blob{encode_chunk(part)}};
      VIGIL_RETURN_IF_ERROR(
          s.exec("INSERT INTO series_chunks (sensor_id, start_ms, end_ms, points, data) VALUES "
                 "($1, $2, $3, $4, $5)",
                 row)
              .status());
      ++out.chunks_after;
    }
    return out;
  });
  if (done.ok()) {
    std::lock_guard lock(compact_mu_);
    small_chunks_.erase(sensor_id);
  }
  return done;
}

Expected<int64_t> SeriesStore::apply_retention(std::chrono::system_clock::time_point now) {
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::vector<Value> p{now_ms, kDayMs};
  return store::write_returning<int64_t>(db_, [&](store::Session& s) -> Expected<int64_t> {
    return s.exec(
        "DELETE FROM series_chunks WHERE end_ms < (SELECT CAST($1 AS BIGINT) - "
        "CAST(s.retention_days AS BIGINT) * CAST($2 AS BIGINT) FROM sensors s WHERE s.id = "
        "series_chunks.sensor_id AND s.retention_days > 0)",
        p);
  });
}

Expected<SeriesStore::Usage> SeriesStore::usage(int64_t sensor_id) {
  std::vector<Value> p{sensor_id};
  auto rows = db_.query(
      "SELECT COUNT(*), COALESCE(SUM(points), 0), COALESCE(SUM(LENGTH(data)), 0) FROM "
      "series_chunks WHERE CAST($1 AS BIGINT) = 0 OR sensor_id = $1",
      p);
  if (!rows.ok()) return rows.status();
  return Usage{rows->get_int(0, 0), rows->get_int(0, 1), rows->get_int(0, 2)};
}

void SeriesStore::start() {
  std::lock_guard lock(compact_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void SeriesStore::stop() {
  {
    std::lock_guard lock(compact_mu_);
    stopping_ = true;
  }
  compact_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SeriesStore::run() {
  set_thread_name("vigil-series");
  auto next_retention = std::chrono::steady_clock::now();
  std::unique_lock lock(compact_mu_);
  while (!stopping_) {
    if (!due_.empty()) {
      const int64_t sensor = *due_.begin();
      due_.erase(due_.begin());
      lock.unlock();
      auto c = compact(sensor);
      if (!c.ok() && c.status().code() != ErrorCode::kNotFound) {
        spdlog::warn("telemetry: compacting sensor {} failed: {}", sensor, c.status().to_string());
      }
      lock.lock();
      continue;
    }
    if (std::chrono::steady_clock::now() >= next_retention) {
      lock.unlock();
      auto removed = apply_retention(std::chrono::system_clock::now());
      if (!removed.ok()) {
        spdlog::warn("telemetry: applying retention failed: {}", removed.status().to_string());
      } else if (*removed > 0) {
        spdlog::info("telemetry: retention removed {} series chunks", *removed);
      }
      lock.lock();
      next_retention = std::chrono::steady_clock::now() + options_.retention_every;
      continue;
    }
    compact_cv_.wait_until(lock, next_retention, [this] { return stopping_ || !due_.empty(); });
  }
}

}  // namespace vigil::telemetry
