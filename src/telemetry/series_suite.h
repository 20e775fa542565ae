// Sensors and series, one suite on both backends: SQLite (series_store_test.cpp) and
// PostgreSQL (series_store_pgtest.cpp).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "support/backends.h"
#include "telemetry/baseline_service.h"
#include "telemetry/sensor_store.h"
#include "telemetry/series_store.h"

namespace vigil::telemetry::testing {

constexpr int64_t kT0 = 1'601'469'000'000;  // 2020-09-30T12:30:00Z
constexpr int64_t kStep = 600'000;          // 10 minutes

template <typename Backend>
class SeriesSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.set_up();
    if (IsSkipped() || HasFatalFailure()) return;
    vigil::testing::open_migrated(backend_.url(), 8, db_);
    if (HasFatalFailure()) return;
    sensors_ = std::make_unique<SensorStore>(*db_);
    series_ = std::make_unique<SeriesStore>(*db_, SeriesStore::Options{.chunk_points = 100});
  }
  void TearDown() override {
    series_.reset();
    sensors_.reset();
    db_.reset();
    backend_.tear_down();
  }
  int64_t sensor(const std::string& name) {
    auto s = sensors_->create(name, {});
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return s.ok() ? s->id : 0;
  }
  static std::vector<Point> regular(int64_t from_index, int n, double (*f)(int)) {
    std::vector<Point> out;
    for (int i = 0; i < n; ++i) {
      out.push_back({kT0 + (from_index + i) * kStep, f(static_cast<int>(from_index) + i)});
    }
    return out;
  }

  Backend backend_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<SensorStore> sensors_;
  std::unique_ptr<SeriesStore> series_;
};

TYPED_TEST_SUITE_P(SeriesSuite);

TYPED_TEST_P(SeriesSuite, SensorsAreCreatedListedChangedAndRemoved) {
  auto& st = *this->sensors_;
  SensorFields f;
  f.unit = "ppmv";
  f.x = 1.5;
  f.detector = DetectorSettings{.window = 48, .exclusion = 24};
  f.pinned = true;
  auto a = st.create("Gas-1", f);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(a->unit, "ppmv");
  EXPECT_EQ(a->x, 1.5);
  EXPECT_FALSE(a->y);
  EXPECT_EQ(a->detector.window, 48);
  EXPECT_TRUE(a->pinned);
  EXPECT_EQ(st.create("gas-1", {}).status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(st.create("bad name", {}).status().field(), "name");
  SensorFields bad;
  bad.detector = DetectorSettings{.window = 10, .exclusion = 11};
  EXPECT_EQ(st.create("x", bad).status().field(), "detector.exclusion");
  bad.detector = DetectorSettings{.warn_percent = 200, .critical_percent = 150};
  EXPECT_EQ(st.create("x", bad).status().field(), "detector.critical_percent");
  SensorFields no_device;
  no_device.device = "nowhere";
  EXPECT_EQ(st.create("x", no_device).status().field(), "device");
  ASSERT_TRUE(st.create("gas-2", {}).ok());

  auto pinned = st.list({.pinned = true});
  ASSERT_TRUE(pinned.ok());
  ASSERT_EQ(pinned->size(), 1u);
  EXPECT_EQ((*pinned)[0].name, "Gas-1");
  auto page = st.list({.limit = 1, .after_id = a->id});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].name, "gas-2");

  SensorFields change;
  change.x = std::optional<double>();  // cleared
  change.pinned = false;
  auto changed = st.update("GAS-1", change);
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  EXPECT_FALSE(changed->x);
  EXPECT_FALSE(changed->pinned);
  EXPECT_EQ(changed->unit, "ppmv");

  ASSERT_TRUE(this->series_->append({{a->id, {{kT0, 1}}}}).ok());
  ASSERT_TRUE(st.remove("gas-1").ok());
  EXPECT_EQ(st.get("Gas-1").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(st.remove("gas-1").code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->series_->usage(a->id)->chunks, 0) << "its points went with it";
}

TYPED_TEST_P(SeriesSuite, PointsComeBackInOrderOnceEachWhateverTheyCameIn) {
  const int64_t s = this->sensor("s");
  auto f = [](int i) { return i * 0.25; };
  auto first = this->regular(0, 50, f);
  auto second = this->regular(50, 50, f);
  // The second half first; then the first half with a point sent again and one corrected.
  ASSERT_TRUE(this->series_->append({{s, second}}).ok());
  auto again = first;
  again.push_back(second[10]);
  again.push_back({second[11].at_ms, 999.0});
  ASSERT_TRUE(this->series_->append({{s, again}}).ok());

  auto all = this->series_->read(s, kT0, kT0 + 99 * kStep);
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  ASSERT_EQ(all->size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ((*all)[i].at_ms, kT0 + i * kStep);
    EXPECT_EQ((*all)[i].value, i == 61 ? 999.0 : f(i)) << i;
  }
  auto part = this->series_->read(s, kT0 + 10 * kStep, kT0 + 12 * kStep);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part->size(), 3u);
  EXPECT_TRUE(this->series_->read(s, kT0 + 200 * kStep, kT0 + 300 * kStep)->empty());
  EXPECT_EQ(this->series_->read(s, 2, 1).status().field(), "from");

  auto tail = this->series_->last(s, kT0 + 60 * kStep, 5);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 5u);
  EXPECT_EQ(tail->back().at_ms, kT0 + 60 * kStep);
  EXPECT_EQ(tail->front().at_ms, kT0 + 56 * kStep);
  EXPECT_EQ(this->series_->last(s, kT0 + 1000 * kStep, 1000)->size(), 100u);
  auto head = this->series_->first(s, 5);
  ASSERT_TRUE(head.ok());
  ASSERT_EQ(head->size(), 5u);
  EXPECT_EQ(head->front().at_ms, kT0);
  EXPECT_EQ(head->back().at_ms, kT0 + 4 * kStep);
  EXPECT_EQ(this->series_->first(s, 1000)->size(), 100u);
}

TYPED_TEST_P(SeriesSuite, CompactionMergesSmallChunksAndKeepsTheLaterWrite) {
  const int64_t s = this->sensor("s");
  // 30 appends of 10 points, every third one re-sending an earlier point with a new value.
  for (int k = 0; k < 30; ++k) {
    auto pts = this->regular(k * 10, 10, [](int i) { return static_cast<double>(i); });
    if (k % 3 == 2) pts.push_back({kT0 + (k * 10 - 15) * kStep, -1.0});
    ASSERT_TRUE(this->series_->append({{s, pts}}).ok());
  }
  auto before = this->series_->read(s, kT0, kT0 + 300 * kStep);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 300u);
  auto c = this->series_->compact(s);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->chunks_before, 30);
  EXPECT_EQ(c->points, 300);
  EXPECT_EQ(c->chunks_after, 3);  // chunk_points 100
  auto usage = this->series_->usage(s);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->chunks, 3);
  EXPECT_EQ(usage->points, 300) << "the re-sent points are stored once now";
  auto after = this->series_->read(s, kT0, kT0 + 300 * kStep);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
  EXPECT_EQ((*after)[5].value, -1.0) << "the later write won";
  EXPECT_EQ(this->series_->compact(s)->chunks_before, 0) << "nothing small is left";

  // A late point into the middle of full chunks: compaction rewrites what it overlaps.
  ASSERT_TRUE(this->series_->append({{s, {{kT0 + 150 * kStep + 1, 7.0}}}}).ok());
  c = this->series_->compact(s);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->points, 101);
  EXPECT_EQ(this->series_->read(s, kT0, kT0 + 300 * kStep)->size(), 301u);
}

TYPED_TEST_P(SeriesSuite, BucketsAggregateEachWay) {
  const int64_t s = this->sensor("s");
  // One point a minute for an hour: 0, 1, ..., 59.
  std::vector<Point> pts;
  for (int i = 0; i < 60; ++i) pts.push_back({kT0 + i * 60'000, static_cast<double>(i)});
  ASSERT_TRUE(this->series_->append({{s, pts}}).ok());
  const int64_t from = kT0, to = kT0 + 3'600'000;
  auto avg = this->series_->aggregate(s, from, to, 600'000, Agg::kAvg);
  ASSERT_TRUE(avg.ok()) << avg.status().to_string();
  ASSERT_EQ(avg->size(), 6u);
  EXPECT_EQ((*avg)[0], (Bucket{kT0, 4.5, 10}));
  EXPECT_EQ((*avg)[5], (Bucket{kT0 + 3'000'000, 54.5, 10}));
  EXPECT_EQ((*this->series_->aggregate(s, from, to, 600'000, Agg::kMin))[1].value, 10.0);
  EXPECT_EQ((*this->series_->aggregate(s, from, to, 600'000, Agg::kMax))[1].value, 19.0);
  EXPECT_EQ((*this->series_->aggregate(s, from, to, 600'000, Agg::kLast))[2].value, 29.0);
  EXPECT_EQ((*this->series_->aggregate(s, from, to, 600'000, Agg::kCount))[3].value, 10.0);
  // Buckets are aligned to the epoch, not to `from`; empty ones are left out.
  auto odd = this->series_->aggregate(s, kT0 + 30 * 60'000, to, 7 * 60'000, Agg::kCount);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ((*odd)[0].start_ms % (7 * 60'000), 0);
  int64_t total = 0;
  for (const Bucket& b : *odd) total += b.count;
  EXPECT_EQ(total, 30);
  EXPECT_EQ(this->series_->aggregate(s, from, to, 0, Agg::kAvg).status().field(), "step");
  EXPECT_EQ(this->series_->aggregate(s, 0, to, 1, Agg::kAvg).status().field(), "step");
  EXPECT_EQ(agg_from("median"), std::nullopt);
  EXPECT_EQ(agg_from("last"), Agg::kLast);
}

TYPED_TEST_P(SeriesSuite, RetentionDropsChunksOlderThanTheSensorKeeps) {
  const int64_t keep = this->sensor("keep");
  SensorFields short_lived;
  short_lived.retention_days = 1;
  auto s = this->sensors_->create("short", short_lived);
  ASSERT_TRUE(s.ok());
  auto one = [](int) { return 1.0; };
  for (int64_t sensor : {keep, s->id}) {
    ASSERT_TRUE(this->series_->append({{sensor, this->regular(0, 10, one)}}).ok());    // day 0
    ASSERT_TRUE(this->series_->append({{sensor, this->regular(288, 10, one)}}).ok());  // day 2
  }
  const auto now = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(kT0 + 288 * kStep + 3'600'000));  // an hour after day 2's start
  auto removed = this->series_->apply_retention(now);
  ASSERT_TRUE(removed.ok()) << removed.status().to_string();
  EXPECT_EQ(*removed, 1);
  EXPECT_EQ(this->series_->usage(keep)->points, 20);
  EXPECT_EQ(this->series_->usage(s->id)->points, 10);
}

// Many callers at once share transactions: every point is stored, each caller hears of its own.
TYPED_TEST_P(SeriesSuite, ConcurrentAppendsAreAllStored) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(this->sensor("s" + std::to_string(i)));
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 25; ++k) {
        std::vector<SensorPoints> batch;
        for (size_t s = 0; s < ids.size(); ++s) {
          std::vector<Point> pts;
          for (int i = 0; i < 10; ++i) pts.push_back({(t * 25 + k) * 10 + i, 1.0 * s});
          batch.push_back({ids[s], std::move(pts)});
        }
        if (!this->series_->append(std::move(batch)).ok()) ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  for (int64_t id : ids) {
    auto pts = this->series_->read(id, 0, 1'000'000);
    ASSERT_TRUE(pts.ok());
    EXPECT_EQ(pts->size(), 2000u);
  }
  // A deleted sensor's points are refused; the others' in the same moment are not.
  ASSERT_TRUE(this->sensors_->remove("s3").ok());
  EXPECT_EQ(this->series_->append({{ids[3], {{1, 1}}}}).code(), ErrorCode::kConflict);
  EXPECT_TRUE(this->series_->append({{ids[0], {{5'000'000, 1}}}}).ok());
}

TYPED_TEST_P(SeriesSuite, TheThreadCompactsSensorsThatGatheredSmallChunks) {
  const int64_t s = this->sensor("s");
  this->series_->start();
  for (int k = 0; k < 8; ++k) {  // compact_after 8
    ASSERT_TRUE(this->series_->append({{s, {{kT0 + k, 1.0 * k}}}}).ok());
  }
  int64_t chunks = -1;
  for (int i = 0; i < 500 && (chunks = this->series_->usage(s)->chunks) != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(chunks, 1);
  EXPECT_EQ(this->series_->read(s, kT0, kT0 + 10)->size(), 8u);
}

// The baseline library and a sensor's baselines: upload, cut (cleaned), seeds, set, select
// (those that would warn skipped), augment (only history not added before), each change a
// history row told to `noted` and to the telemetry service's `changed`, and the levels then
// measured against the sensor's own baseline.
TYPED_TEST_P(SeriesSuite, BaselinesAreKeptSelectedAndAugmented) {
  TelemetryService telemetry(*this->sensors_, *this->series_);
  BaselineStore store(*this->db_);
  telemetry.use_baselines(&store);
  BaselineService baselines(telemetry, store, {.history_points = 1000});
  std::vector<std::string> noted;
  std::vector<int64_t> changed;
  baselines.noted = [&](const Sensor& s, const SensorBaseline& b) {
    noted.push_back(s.name + ":" + b.action + ":" + b.baseline);
  };
  telemetry.changed = [&](int64_t id) { changed.push_back(id); };
  auto wave = [](int i) {
    return 50 + 10 * std::sin(i * 2 * M_PI / 144) + ((i * 7919) % 13) * 0.1;
  };
  auto sensor = telemetry.create("gas-1", {});
  ASSERT_TRUE(sensor.ok());
  ASSERT_TRUE(telemetry
                  .ingest({{"gas-1", this->regular(
                                         0, 1500,
                                         +[](int i) {
                                           return 50 + 10 * std::sin(i * 2 * M_PI / 144) +
                                                  ((i * 7919) % 13) * 0.1;
                                         })}})
                  .ok());

  // The library.
  std::vector<double> calm, alike;
  for (int i = 0; i < 1000; ++i) {
    calm.push_back(50 + 0.5 * std::sin(i * 2 * M_PI / 144));
    alike.push_back(wave(i + 7));
  }
  auto up = baselines.upload("calm", calm, 0);
  ASSERT_TRUE(up.ok()) << up.status().to_string();
  EXPECT_EQ(up->points, 1000);
  EXPECT_NEAR(up->mean, 50, 0.01);
  ASSERT_TRUE(baselines.upload("alike", alike, 0).ok());
  EXPECT_EQ(baselines.upload("CALM", calm, 0).status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(baselines.upload("short", {1, 2, 3}, 0).status().field(), "values");
  EXPECT_EQ(baselines.upload("bad name!", calm, 0).status().field(), "name");
  auto cut =
      baselines.cut({.name = "cut", .sensor = "gas-1", .from_ms = kT0, .to_ms = kT0 + 999 * kStep});
  ASSERT_TRUE(cut.ok()) << cut.status().to_string();
  EXPECT_EQ(cut->source, "sensor");
  EXPECT_EQ(cut->removed, 3);
  EXPECT_EQ(cut->points, 1000) << "discords become gaps";
  EXPECT_EQ(cut->from_ms, kT0);
  EXPECT_EQ(
      baselines.cut({.name = "x", .sensor = "nope", .from_ms = 0, .to_ms = 1}).status().field(),
      "sensor");
  EXPECT_EQ(
      baselines.cut({.name = "x", .sensor = "gas-1", .from_ms = 0, .to_ms = 1}).status().field(),
      "from")
      << "no points there";
  auto seeded = baselines.seed();
  ASSERT_TRUE(seeded.ok()) << seeded.status().to_string();
  EXPECT_EQ(*seeded, 3);
  EXPECT_EQ(*baselines.seed(), 0) << "seeds are added once";
  auto seed = store.get("leak-18AIL012A", true);
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(seed->source, "seed");
  EXPECT_EQ(static_cast<size_t>(seed->points), seed->values.size());
  EXPECT_GT(seed->points, 1500);
  auto listed = store.list(100);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 6u);
  EXPECT_TRUE(listed->front().values.empty()) << "lists carry no values";
  auto got = store.get("alike", true);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->values, alike) << "lossless";

  // Selection: the calm one would warn; the closest that fits wins.
  auto selected = baselines.select("gas-1", 0);
  ASSERT_TRUE(selected.ok()) << selected.status().to_string();
  ASSERT_TRUE(selected->chosen);
  EXPECT_NE(selected->chosen->baseline, "calm");
  EXPECT_EQ(selected->candidates.size(), 6u);
  for (const auto& c : selected->candidates) {
    if (c.name == "calm" || c.name == selected->chosen->baseline) {
      EXPECT_EQ(c.verdict.fits, c.name != "calm") << c.name;
    }
  }
  EXPECT_EQ(selected->chosen->action, "select");

  // Set, augment: each a history row, newest first.
  auto set = baselines.set("gas-1", "alike", 0);
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_EQ(baselines.set("gas-1", "nope", 0).status().field(), "baseline");
  auto augmented = baselines.augment("gas-1", 0);
  ASSERT_TRUE(augmented.ok()) << augmented.status().to_string();
  EXPECT_EQ(augmented->baseline, "alike");
  EXPECT_GT(augmented->points, 1000);
  EXPECT_EQ(baselines.augment("gas-1", 0).status().code(), ErrorCode::kConflict)
      << "no history since the last augmentation";
  auto view = baselines.of("gas-1");
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(view->current);
  EXPECT_EQ(view->current->action, "augment");
  ASSERT_EQ(view->history.size(), 3u);
  EXPECT_EQ(view->history[1].action, "set");
  EXPECT_EQ(view->history[2].action, "select");
  EXPECT_EQ(noted.size(), 3u);
  EXPECT_EQ(noted[1], "gas-1:set:alike");
  EXPECT_EQ(changed, (std::vector<int64_t>{sensor->id, sensor->id, sensor->id}));

  // Levels are measured against the sensor's own baseline now, not a learned one (undefined for
  // the first 576 points).
  auto levels = telemetry.anomalies(*sensor, kT0 + 300 * kStep, kT0 + 310 * kStep, 100);
  ASSERT_TRUE(levels.ok());
  EXPECT_NE(levels->back().level, detect::Level::kUndefined);

  // A scheduled pass does the same for every sensor; a sensor without history is skipped.
  ASSERT_TRUE(telemetry.create("empty", {}).ok());
  baselines.run_schedule(true, false);
  auto after = baselines.of("gas-1");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->current->action, "select");
  EXPECT_EQ(after->current->by_user, 0);
  auto empty = baselines.of("empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->current);

  ASSERT_TRUE(store.remove("calm").ok());
  EXPECT_EQ(store.remove("calm").code(), ErrorCode::kNotFound);
  // A removed sensor takes its history along.
  ASSERT_TRUE(telemetry.remove("gas-1").ok());
  auto gone = store.history(sensor->id, 10);
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->empty());
}

REGISTER_TYPED_TEST_SUITE_P(SeriesSuite, SensorsAreCreatedListedChangedAndRemoved,
                            PointsComeBackInOrderOnceEachWhateverTheyCameIn,
                            CompactionMergesSmallChunksAndKeepsTheLaterWrite,
                            BucketsAggregateEachWay, RetentionDropsChunksOlderThanTheSensorKeeps,
                            ConcurrentAppendsAreAllStored,
                            TheThreadCompactsSensorsThatGatheredSmallChunks,
                            BaselinesAreKeptSelectedAndAugmented);

}  // namespace vigil::telemetry::testing
