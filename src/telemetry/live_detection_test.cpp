// LiveDetection on a real SQLite store: the live levels equal the ones GET …/anomalies
// recomputes from the stored series, whether the points came in small batches, out of order,
// faster than the queue holds, or across a restart.
#include "telemetry/live_detection.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <mutex>

#include "support/backends.h"

namespace vigil::telemetry {
namespace {

constexpr int64_t kT0 = 1'601'469'000'000;
constexpr int64_t kStep = 600'000;

// A daily-looking wave with a little noise, and a jump from `spike` on for 20 points.
std::vector<Point> wave(int from, int n, int spike = -1) {
  std::vector<Point> out;
  for (int i = from; i < from + n; ++i) {
    double v = 50 + 10 * std::sin(i * 2 * M_PI / 144) + ((i * 7919) % 13) * 0.1;
    if (spike >= 0 && i >= spike && i < spike + 20) v += 40 + (i - spike);
    out.push_back({kT0 + i * kStep, std::round(v * 10) / 10});
  }
  return out;
}

class LiveDetectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.set_up();
    vigil::testing::open_migrated(backend_.url(), 4, db_);
    if (HasFatalFailure()) return;
    sensors_ = std::make_unique<SensorStore>(*db_);
    series_ = std::make_unique<SeriesStore>(*db_, SeriesStore::Options{});
    service_ = std::make_unique<TelemetryService>(*sensors_, *series_);
    auto s = service_->create("gas-1", {});
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    sensor_ = *s;
  }
  void TearDown() override {
    live_.reset();
    service_.reset();
    series_.reset();
    sensors_.reset();
    db_.reset();
    backend_.tear_down();
  }

  // A live detector recording what it judged; stored batches go to it.
  void start_live(LiveOptions options = {}) {
    live_ = std::make_unique<LiveDetection>(
        *service_, options,
        LiveHooks{.judged =
                      [this](const Sensor&, std::span<const JudgedPoint> points) {
                        std::lock_guard lock(mu_);
                        for (const auto& p : points) judged_[p.point.at_ms] = p;
                        ++batches_;
                      },
                  .changed =
                      [this](const Sensor&, const JudgedPoint& p, detect::Level previous) {
                        std::lock_guard lock(mu_);
                        changes_.push_back({previous, p.level});
                      }});
    service_->stored = [this](const Sensor& s, std::vector<Point>&& points) {
      live_->offer(s, std::move(points));
    };
    service_->changed = [this](int64_t id) { live_->reset(id); };
    live_->start();
  }

  void send(std::vector<Point> points) {
    auto n = service_->ingest({{"gas-1", std::move(points)}});
    ASSERT_TRUE(n.ok()) << n.status().to_string();
  }

  // Every stored point's live level equals the recomputed one.
  void expect_live_equals_recomputed(size_t expected_points) {
    live_->drain();
    auto all = service_->anomalies(sensor_, std::numeric_limits<int64_t>::min(),
                                   std::numeric_limits<int64_t>::max(), 1'000'000);
    ASSERT_TRUE(all.ok()) << all.status().to_string();
    ASSERT_EQ(all->size(), expected_points);
    std::lock_guard lock(mu_);
    ASSERT_EQ(judged_.size(), expected_points);
    size_t critical = 0;
    for (const auto& j : *all) {
      const JudgedPoint& live = judged_.at(j.point.at_ms);
      ASSERT_EQ(live.level, j.level) << "at point " << (j.point.at_ms - kT0) / kStep;
      if (!std::isnan(j.percent)) {
        ASSERT_NEAR(live.percent, j.percent, 1e-6);
      }
      critical += j.level == detect::Level::kCritical;
    }
    EXPECT_GT(critical, 0u) << "the spike is seen";
  }

  vigil::testing::SqliteFileBackend backend_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<SensorStore> sensors_;
  std::unique_ptr<SeriesStore> series_;
  std::unique_ptr<TelemetryService> service_;
  std::unique_ptr<LiveDetection> live_;
  Sensor sensor_;

  std::mutex mu_;
  std::map<int64_t, JudgedPoint> judged_;
  std::vector<std::pair<detect::Level, detect::Level>> changes_;
  int batches_ = 0;
};

TEST_F(LiveDetectionTest, LevelsOfSmallBatchesEqualTheRecomputedOnesAndChangesAreTold) {
  start_live();
  for (int i = 0; i < 1200; i += 50) send(wave(i, 50, 1000));
  expect_live_equals_recomputed(1200);
  std::lock_guard lock(mu_);
  ASSERT_FALSE(changes_.empty());
  EXPECT_EQ(changes_.front().first, detect::Level::kUndefined) << "learning first";
  for (size_t i = 1; i < changes_.size(); ++i) {
    EXPECT_EQ(changes_[i].first, changes_[i - 1].second)
        << "each change starts where the last ended";
  }
  EXPECT_EQ(live_->stats().judged, 1200);
  EXPECT_EQ(live_->stats().behind, 0);
}

TEST_F(LiveDetectionTest, PointsOutOfOrderOrAgainAreStoredButNotJudgedTwice) {
  start_live();
  send(wave(0, 700));
  send(wave(600, 50));  // again (the same values)
  live_->drain();
  EXPECT_EQ(live_->stats().judged, 700);
  send(wave(700, 500, 1000));
  expect_live_equals_recomputed(1200);
}

TEST_F(LiveDetectionTest, ASensorBehindIsReadBackFromTheStoreAndNothingGoesUnjudged) {
  start_live({.max_queued_points = 40});  // every 50-point batch overflows
  for (int i = 0; i < 1200; i += 50) send(wave(i, 50, 1000));
  expect_live_equals_recomputed(1200);
  EXPECT_GT(live_->stats().behind, 0);
}

TEST_F(LiveDetectionTest, ARestartGoesOnFromTheStoredSeries) {
  start_live();
  send(wave(0, 900));
  live_->drain();
  live_.reset();  // a restart: a new detector knows nothing
  {
    std::lock_guard lock(mu_);
    judged_.clear();
  }
  start_live();
  send(wave(900, 300, 1000));
  live_->drain();
  auto all = service_->anomalies(sensor_, kT0 + 900 * kStep, std::numeric_limits<int64_t>::max(),
                                 1'000'000);
  ASSERT_TRUE(all.ok());
  std::lock_guard lock(mu_);
  ASSERT_EQ(judged_.size(), 300u);
  for (const auto& j : *all) EXPECT_EQ(judged_.at(j.point.at_ms).level, j.level);
}

TEST_F(LiveDetectionTest, ChangedSettingsStartTheSensorOverWithThem) {
  start_live();
  send(wave(0, 1000));
  SensorFields f;
  f.detector = sensor_.detector;
  f.detector->warn_percent = 1;  // everything warns now
  f.detector->critical_percent = 100000;
  auto changed = service_->update("gas-1", f);
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  send(wave(1000, 20));
  live_->drain();
  std::lock_guard lock(mu_);
  EXPECT_EQ(judged_.at(kT0 + 1019 * kStep).level, detect::Level::kWarning);
}

TEST_F(LiveDetectionTest, OffersBeforeStartOrAfterStopAreDropped) {
  live_ = std::make_unique<LiveDetection>(*service_, LiveOptions{}, LiveHooks{});
  live_->offer(sensor_, wave(0, 10));
  live_->start();
  live_->stop();
  live_->offer(sensor_, wave(10, 10));
  EXPECT_EQ(live_->stats().judged, 0);
}

}  // namespace
}  // namespace vigil::telemetry
