#include "core/metrics.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

namespace vigil {
namespace {

std::string render_labels(const MetricLabels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    for (char c : v) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string format_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Inserts an extra label (le="…") into a rendered label set.
std::string with_label(const std::string& rendered, const std::string& extra) {
  if (rendered.empty()) return "{" + extra + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  assert(std::is_sorted(bounds_.begin(), bounds_.end()));
}

void Histogram::observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::cumulative() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

const std::vector<double>& latency_buckets_seconds() {
  static const std::vector<double> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                               0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                               0.5,     1,      2.5,     5,      10};
  return kBuckets;
}

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, const std::string& help,
                                                 Kind kind) {
  auto [it, inserted] = families_.try_emplace(name, Family{kind, help, {}, {}});
  assert(it->second.kind == kind && "metric registered twice with different kinds");
  return it->second;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                  const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, Kind::kCounter);
  std::string key = render_labels(labels);
  if (auto it = f.by_labels.find(key); it != f.by_labels.end()) {
    return *static_cast<Counter*>(f.series[it->second].second);
  }
  Counter& c = counters_.emplace_back();
  f.by_labels[key] = f.series.size();
  f.series.emplace_back(key, &c);
  return c;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                              const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, Kind::kGauge);
  std::string key = render_labels(labels);
  if (auto it = f.by_labels.find(key); it != f.by_labels.end()) {
    return *static_cast<Gauge*>(f.series[it->second].second);
  }
  Gauge& g = gauges_.emplace_back();
  f.by_labels[key] = f.series.size();
  f.series.emplace_back(key, &g);
  return g;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      const MetricLabels& labels,
                                      const std::vector<double>& bounds) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, Kind::kHistogram);
  std::string key = render_labels(labels);
  if (auto it = f.by_labels.find(key); it != f.by_labels.end()) {
    return *static_cast<Histogram*>(f.series[it->second].second);
  }
  Histogram& h = histograms_.emplace_back(bounds);
  f.by_labels[key] = f.series.size();
  f.series.emplace_back(key, &h);
  return h;
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(16384);
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n";
    switch (f.kind) {
      case Kind::kCounter:
        out += "# TYPE " + name + " counter\n";
        for (const auto& [labels, p] : f.series) {
          out += name + labels + " " + std::to_string(static_cast<Counter*>(p)->value()) + "\n";
        }
        break;
      case Kind::kGauge:
        out += "# TYPE " + name + " gauge\n";
        for (const auto& [labels, p] : f.series) {
          out += name + labels + " " + std::to_string(static_cast<Gauge*>(p)->value()) + "\n";
        }
        break;
      case Kind::kHistogram:
        out += "# TYPE " + name + " histogram\n";
        for (const auto& [labels, p] : f.series) {
          const auto* h = static_cast<Histogram*>(p);
          auto counts = h->cumulative();
          for (size_t i = 0; i < h->bounds().size(); ++i) {
            out += name + "_bucket" +
                   with_label(labels, "le=\"" + format_double(h->bounds()[i]) + "\"") + " " +
                   std::to_string(counts[i]) + "\n";
          }
          out += name + "_bucket" + with_label(labels, "le=\"+Inf\"") + " " +
                 std::to_string(counts.back()) + "\n";
          out += name + "_sum" + labels + " " + format_double(h->sum()) + "\n";
          out += name + "_count" + labels + " " + std::to_string(counts.back()) + "\n";
        }
        break;
    }
  }
  return out;
}

}  // namespace vigil
