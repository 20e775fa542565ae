#include "core/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace vigil {
namespace {

TEST(MetricsTest, CountersAreSharedPerLabelSet) {
  MetricsRegistry r;
  Counter& a = r.counter("x_total", "help", {{"k", "1"}});
  Counter& b = r.counter("x_total", "help", {{"k", "1"}});
  Counter& c = r.counter("x_total", "help", {{"k", "2"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  a.inc();
  b.inc(2);
  std::string text = r.render();
  EXPECT_NE(text.find("# TYPE x_total counter"), std::string::npos);
  EXPECT_NE(text.find("x_total{k=\"1\"} 3"), std::string::npos);
  EXPECT_NE(text.find("x_total{k=\"2\"} 0"), std::string::npos);
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  MetricsRegistry r;
  Histogram& h = r.histogram("lat_seconds", "help", {{"route", "/a"}}, {0.1, 1.0});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  std::string text = r.render();
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"0.10000000000000001\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"1\"} 2"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_count{route=\"/a\"} 3"), std::string::npos);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  MetricsRegistry r;
  r.gauge("g", "help", {{"path", "a\"b\\c"}}).set(-4);
  EXPECT_NE(r.render().find("g{path=\"a\\\"b\\\\c\"} -4"), std::string::npos);
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry r;
  Counter& c = r.counter("n_total", "help");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
}

}  // namespace
}  // namespace vigil
