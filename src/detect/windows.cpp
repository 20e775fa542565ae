#include "detect/windows.h"

#include <cmath>
#include <limits>

namespace vigil::detect::detail {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kExactStatsEvery = 64;  // SlidingStats
}  // namespace

void SlidingStats::next(const double* w, int m, int64_t index) {
  bool exact = index % kExactStatsEvery == 0;
  if (!exact) {
    const double in = w[m - 1], out = w[-1];
    const double mu_new = mu + (in - out) / m;
    const double m2_new = m2 + (in - out) * (in - mu_new + out - mu);
    // A large value left: what remains is below the rounding of what was.
    exact = !(m2_new > m2 * 0x1p-20);
    mu = mu_new;
    m2 = m2_new;
  }
  if (exact) {
    double sum = 0;
    for (int k = 0; k < m; ++k) sum += w[k];
    mu = sum / m;
    m2 = 0;
    for (int k = 0; k < m; ++k) m2 += (w[k] - mu) * (w[k] - mu);
  }
}

WindowsView Windows::view() const {
  WindowsView v;
  v.t = t.data();
  v.mu = mu.empty() ? nullptr : mu.data();
  v.df = df.empty() ? nullptr : df.data();
  v.dg = dg.empty() ? nullptr : dg.data();
  v.inv_norm = inv_norm.empty() ? nullptr : inv_norm.data();
  v.penalty = penalty.empty() ? nullptr : penalty.data();
  v.count = count;
  v.m = m;
  return v;
}

double finite_center(std::span<const double> a, std::span<const double> b) {
  long double sum = 0;
  int64_t n = 0;
  for (auto series : {a, b}) {
    for (double v : series) {
      if (std::isfinite(v)) {
        sum += v;
        ++n;
      }
    }
  }
  return n == 0 ? 0.0 : static_cast<double>(sum / n);
}

Windows prepare_windows(std::span<const double> values, int m, double center, bool pearson) {
  Windows w;
  w.m = m;
  w.n = static_cast<int64_t>(values.size());
  w.count = w.n - m + 1;
  const int64_t n = w.n;
  const int64_t count = w.count;

  w.t.assign(n + kPad, 0.0);
  std::vector<int64_t> bad_before(n + 1, 0);  // non-finite values among the first i
  for (int64_t i = 0; i < n; ++i) {
    const bool finite = std::isfinite(values[i]);
    w.t[i] = finite ? values[i] - center : 0.0;
    bad_before[i + 1] = bad_before[i] + (finite ? 0 : 1);
  }
  // run[i]: how many values from i on equal values[i] (exactly, as given).
  std::vector<int64_t> run(n + 1, 0);
  for (int64_t i = n - 1; i >= 0; --i) {
    run[i] = (i + 1 < n && values[i + 1] == values[i]) ? run[i + 1] + 1 : 1;
  }
  w.kind.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    if (bad_before[i + m] - bad_before[i] > 0) {
      w.kind[i] = WindowKind::kInvalid;
    } else if (run[i] >= m) {
      w.kind[i] = WindowKind::kConstant;
    } else {
      w.kind[i] = WindowKind::kRegular;
    }
  }

  if (!pearson) {
    w.penalty.assign(count + kPad, kNaN);
    for (int64_t i = 0; i < count; ++i) {
      if (w.kind[i] != WindowKind::kInvalid) w.penalty[i] = 0.0;
    }
    return w;
  }

  w.mu.assign(count + kPad, 0.0);
  w.inv_norm.assign(count + kPad, kNaN);
  w.df.assign(count + kPad, 0.0);
  w.dg.assign(count + kPad, 0.0);
  const double* t = w.t.data();
  SlidingStats stats;
  for (int64_t i = 0; i < count; ++i) {
    stats.next(t + i, m, i);
    w.mu[i] = stats.mu;
    if (w.kind[i] != WindowKind::kRegular) continue;
    if (stats.m2 > 0) {
      w.inv_norm[i] = 1.0 / std::sqrt(stats.m2);
    } else {
      w.kind[i] = WindowKind::kConstant;  // equal but for rounding
    }
  }
  for (int64_t i = 1; i < count; ++i) {
    w.df[i] = (t[i + m - 1] - t[i - 1]) / 2;
    w.dg[i] = (t[i + m - 1] - w.mu[i]) + (t[i - 1] - w.mu[i - 1]);
  }
  return w;
}

}  // namespace vigil::detect::detail
