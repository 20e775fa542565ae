#include "detect/matrix_profile.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>

#include "detect/kernels.h"
#include "detect/windows.h"

namespace vigil::detect {
namespace {
using detail::WindowKind;
using detail::Windows;

constexpr double kInf = std::numeric_limits<double>::infinity();

void check_window(int m, size_t n, const char* series) {
  if (m < 3) throw std::invalid_argument("window m must be at least 3, got " + std::to_string(m));
  if (static_cast<size_t>(m) > n) {
    throw std::invalid_argument("window m = " + std::to_string(m) + " is longer than " + series +
                                " (" + std::to_string(n) + " points)");
  }
}

int thread_count(const Options& options) {
  if (options.threads < 0) {
    throw std::invalid_argument("threads must be at least 0 (0: one per hardware thread), got " +
                                std::to_string(options.threads));
  }
  if (options.threads > 0) return options.threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

// A set of diagonals of one (rows, columns) pair of series, and which side's profile it feeds.
struct Pass {
  const Windows* x;
  const Windows* y;
  int64_t g_first, g_last;
  bool rows, cols;
};

struct Scores {
  std::vector<double> score;
  std::vector<int64_t> index;
  explicit Scores(int64_t n)
      : score(n + detail::kPad, -kInf), index(n + detail::kPad, int64_t{-1}) {}
  void merge(const Scores& o) {
    for (size_t i = 0; i < score.size(); ++i) {
      if (detail::better(o.score[i], o.index[i], score[i], index[i])) {
        score[i] = o.score[i];
        index[i] = o.index[i];
      }
    }
  }
};

// Runs every band of every pass on `threads` threads, each into its own scores, then merges.
Scores run_passes(const std::vector<Pass>& passes, int64_t profile_count, bool pearson,
                  int threads) {
  const detail::Kernels& k = detail::kernels();
  std::vector<detail::BandJob> jobs;
  for (const Pass& p : passes) {
    for (int64_t g0 = p.g_first; g0 <= p.g_last; g0 += k.band) {
      detail::BandJob job;
      job.x = p.x->view();
      job.y = p.y->view();
      job.g0 = g0;
      job.g_last = p.g_last;
      job.rows = std::min(p.x->count, p.y->count - g0);
      job.pearson = pearson;
      job.update_rows = p.rows;
      job.update_cols = p.cols;
      if (job.rows > 0) jobs.push_back(job);
    }
  }
  // Longest first, so that the threads finish together.
  std::stable_sort(jobs.begin(), jobs.end(),
                   [](const auto& a, const auto& b) { return a.rows > b.rows; });
  threads = static_cast<int>(std::clamp<int64_t>(static_cast<int64_t>(jobs.size()), 1, threads));
  std::vector<Scores> partial(threads, Scores(profile_count));
  std::atomic<size_t> next{0};
  auto work = [&](int t) {
    for (size_t j; (j = next.fetch_add(1, std::memory_order_relaxed)) < jobs.size();) {
      k.run_band(jobs[j], partial[t].score.data(), partial[t].index.data());
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  for (int t = 1; t < threads; ++t) partial[0].merge(partial[t]);
  return std::move(partial[0]);
}

struct Range {
  int64_t lo, hi;  // inclusive; empty when lo > hi
};
using Ranges = std::pair<Range, Range>;

// STUMPY's rule for constant windows (their Pearson correlation is undefined): constant vs
// constant scores 1 (distance 0), constant vs regular 0.5 (distance sqrt(m)). For each valid
// window i of `self`, the candidates are the windows of `other` in [lo(i), hi(i)] and, for a
// self-join, [i + e + 1, count - 1] too.
class ConstantRule {
 public:
  explicit ConstantRule(const Windows& other)
      : constant_(next(other, true)), regular_(next(other, false)) {}

  template <typename RangesOf>
  void apply(const Windows& self, Scores& s, RangesOf ranges) const {
    for (int64_t i = 0; i < self.count; ++i) {
      const WindowKind kind = self.kind[i];
      if (kind == WindowKind::kInvalid) continue;
      int64_t j = first_in(constant_, ranges(i));
      double score = kind == WindowKind::kConstant ? 1.0 : 0.5;
      if (j < 0 && kind == WindowKind::kConstant) {
        j = first_in(regular_, ranges(i));
        score = 0.5;
      }
      if (j >= 0 && detail::better(score, j, s.score[i], s.index[i])) {
        s.score[i] = score;
        s.index[i] = j;
      }
    }
  }

 private:
  // next[p]: the first window at or after p of the kind (constant, or regular), else count.
  static std::vector<int64_t> next(const Windows& w, bool constant) {
    std::vector<int64_t> out(w.count + 1, w.count);
    const WindowKind want = constant ? WindowKind::kConstant : WindowKind::kRegular;
    for (int64_t p = w.count - 1; p >= 0; --p) out[p] = w.kind[p] == want ? p : out[p + 1];
    return out;
  }
  static int64_t first_in(const std::vector<int64_t>& next, Ranges r) {
    for (Range x : {r.first, r.second}) {
      if (x.lo <= x.hi && next[x.lo] <= x.hi) return next[x.lo];
    }
    return -1;
  }

  std::vector<int64_t> constant_, regular_;
};

MatrixProfile to_distances(const Scores& s, int64_t count, int m, bool pearson) {
  MatrixProfile out;
  out.distance.resize(count);
  out.index.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    const double v = s.score[i];
    if (s.index[i] < 0 || std::isnan(v)) {
      out.distance[i] = kInf;
      out.index[i] = -1;
      continue;
    }
    const double d2 = pearson ? 2.0 * m * (1.0 - std::min(v, 1.0)) : -v;
    out.distance[i] = std::sqrt(std::max(d2, 0.0));
    out.index[i] = s.index[i];
  }
  return out;
}

}  // namespace

int exclusion_for(int m, const Options& options) {
  const int e = options.exclusion.value_or(m / 2);
  if (e < 0) {
    throw std::invalid_argument("exclusion zone must be at least 0, got " + std::to_string(e));
  }
  return e;
}

MatrixProfile self_join(std::span<const double> t, int m, const Options& options) {
  check_window(m, t.size(), "the series");
  const int e = exclusion_for(m, options);
  const int threads = thread_count(options);
  const bool pearson = options.normalize;
  const Windows w = detail::prepare_windows(t, m, detail::finite_center(t), pearson);
  Scores s(w.count);
  if (e + 1 <= w.count - 1) {
    s = run_passes({{&w, &w, e + 1, w.count - 1, true, true}}, w.count, pearson, threads);
  }
  if (pearson) {
    ConstantRule(w).apply(w, s, [&](int64_t i) {
      return Ranges{{0, i - e - 1}, {i + e + 1, w.count - 1}};
    });
  }
  return to_distances(s, w.count, m, pearson);
}

MatrixProfile ab_join(std::span<const double> a, std::span<const double> b, int m,
                      const Options& options) {
  check_window(m, a.size(), "series a");
  check_window(m, b.size(), "series b");
  if (options.exclusion) exclusion_for(m, options);  // validated, then unused
  const int threads = thread_count(options);
  const bool pearson = options.normalize;
  const double center = detail::finite_center(a, b);
  const Windows wa = detail::prepare_windows(a, m, center, pearson);
  const Windows wb = detail::prepare_windows(b, m, center, pearson);
  // Diagonals with b's window at or after a's: rows of b, columns of a (column side feeds a).
  // The others: rows of a, columns of b (row side feeds a).
  std::vector<Pass> passes{{&wb, &wa, 0, wa.count - 1, false, true}};
  if (wb.count > 1) passes.push_back({&wa, &wb, 1, wb.count - 1, true, false});
  Scores s = run_passes(passes, wa.count, pearson, threads);
  if (pearson) {
    ConstantRule(wb).apply(wa, s, [&](int64_t) { return Ranges{{0, wb.count - 1}, {1, 0}}; });
  }
  return to_distances(s, wa.count, m, pearson);
}

MatrixProfile left_profile(std::span<const double> t, int m, const Options& options,
                           int64_t history) {
  check_window(m, t.size(), "the series");
  const int e = exclusion_for(m, options);
  const int threads = thread_count(options);
  if (history < 0 || (history > 0 && history <= int64_t{m} + e)) {
    throw std::invalid_argument("history must be 0 (unbounded) or more than window + exclusion (" +
                                std::to_string(m + e) + "), got " + std::to_string(history));
  }
  const bool pearson = options.normalize;
  const Windows w = detail::prepare_windows(t, m, detail::finite_center(t), pearson);
  const int64_t g_max = history > 0 ? std::min(history - m, w.count - 1) : w.count - 1;
  Scores s(w.count);
  if (e + 1 <= g_max) {
    s = run_passes({{&w, &w, e + 1, g_max, false, true}}, w.count, pearson, threads);
  }
  if (pearson) {
    ConstantRule(w).apply(w, s, [&](int64_t j) {
      return Ranges{{std::max<int64_t>(0, j - g_max), j - e - 1}, {1, 0}};
    });
  }
  return to_distances(s, w.count, m, pearson);
}

std::vector<Discord> top_discords(const MatrixProfile& profile, int k, int exclusion) {
  if (k < 0) throw std::invalid_argument("k must be at least 0, got " + std::to_string(k));
  if (exclusion < 0) {
    throw std::invalid_argument("exclusion zone must be at least 0, got " +
                                std::to_string(exclusion));
  }
  const auto& d = profile.distance;
  const int64_t n = static_cast<int64_t>(d.size());
  std::vector<int64_t> order;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isfinite(d[i])) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return d[a] > d[b]; });
  std::vector<bool> blocked(n, false);
  std::vector<Discord> out;
  for (int64_t i : order) {
    if (static_cast<int>(out.size()) == k) break;
    if (blocked[i]) continue;
    out.push_back({i, d[i]});
    const int64_t lo = std::max<int64_t>(0, i - exclusion);
    const int64_t hi = std::min<int64_t>(n - 1, i + exclusion);
    std::fill(blocked.begin() + lo, blocked.begin() + hi + 1, true);
  }
  return out;
}

}  // namespace vigil::detect
