#include "detect/incremental_profile.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "detect/kernels.h"

namespace vigil::detect {
namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Room past the history in the buffer: it moves back by one memmove every `slack` points.
int64_t slack_for(int history) { return std::max(64, history / 16); }
}  // namespace

IncrementalProfile::IncrementalProfile(const IncrementalOptions& options)
    : m_(options.window),
      h_(options.history),
      e_(options.exclusion.value_or(options.window / 2)),
      normalize_(options.normalize) {
  if (m_ < 3) throw std::invalid_argument("window must be at least 3, got " + std::to_string(m_));
  if (e_ < 0) {
    throw std::invalid_argument("exclusion zone must be at least 0, got " + std::to_string(e_));
  }
  if (int64_t{h_} <= int64_t{m_} + e_) {
    throw std::invalid_argument("history must be more than window + exclusion (" +
                                std::to_string(int64_t{m_} + e_) + "), got " + std::to_string(h_));
  }
  l_max_ = h_ - m_;
  lags_ = l_max_ - e_;
  const int64_t cap = h_ + 1 + slack_for(h_);
  buf_.assign(cap, 0.0);
  acc_.assign(lags_, 0.0);
  if (normalize_) {
    mu_.assign(cap, 0.0);
    df_.assign(cap, 0.0);
    dg_.assign(cap, 0.0);
    inv_.assign(cap, kNaN);
    constant_.assign(cap, 0);
  }
}

size_t IncrementalProfile::state_bytes() const {
  return sizeof(double) *
             (buf_.size() + acc_.size() + mu_.size() + df_.size() + dg_.size() + inv_.size()) +
         constant_.size() + sizeof(int64_t) * bad_.size() + sizeof(*this);
}

void IncrementalProfile::compact() {
  const int64_t shift = size_ - h_;
  auto move = [&](auto& v) {
    std::memmove(v.data(), v.data() + shift, sizeof(v[0]) * static_cast<size_t>(h_));
  };
  move(buf_);
  if (normalize_) {
    move(mu_);
    move(df_);
    move(dg_);
    move(inv_);
    move(constant_);
  }
  start_ += shift;
  size_ = h_;
}

double IncrementalProfile::exact(int64_t a, int64_t b) const {
  double sum = 0;
  if (normalize_) {
    for (int k = 0; k < m_; ++k) sum += (buf_[a + k] - mu_[a]) * (buf_[b + k] - mu_[b]);
  } else {
    for (int k = 0; k < m_; ++k) sum += (buf_[a + k] - buf_[b + k]) * (buf_[a + k] - buf_[b + k]);
  }
  return sum;
}

double IncrementalProfile::push(double value) {
  const bool finite = std::isfinite(value);
  if (finite && !have_center_) {
    center_ = value;
    have_center_ = true;
  }
  if (size_ == static_cast<int64_t>(buf_.size())) compact();
  const int64_t p = points_;
  buf_[size_++] = finite ? value - center_ : 0.0;
  ++points_;
  if (!finite) bad_.push_back(p);
  while (!bad_.empty() && bad_.front() < p - h_) bad_.pop_front();
  if (normalize_) {
    run_ = (finite && p > 0 && run_ > 0 && value == last_raw_) ? run_ + 1 : (finite ? 1 : 0);
    last_raw_ = value;
  }
  if (points_ < m_) return kInf;

  const int64_t s = p - m_ + 1;                                   // the new window
  const int64_t j_lo = std::max<int64_t>(0, l_max_ - s);          // lags it has
  const int64_t j_prev = std::max<int64_t>(0, l_max_ - (s - 1));  // lags window s - 1 had
  const int64_t sb = s - start_;
  // One lag a point is recomputed exactly (at window s - 1, before it steps).
  if (s >= 1) {
    const int64_t j = refresh_;
    if (j >= j_prev) {
      const int64_t lag = l_max_ - j;
      acc_[j] = exact(sb - 1 - lag, sb - 1);
    }
    refresh_ = (refresh_ + 1) % lags_;
  }
  return normalize_ ? push_pearson(s, j_lo, j_prev) : push_euclid(s, j_lo, j_prev);
}

double IncrementalProfile::push_euclid(int64_t s, int64_t j_lo, int64_t j_prev) {
  const int64_t sb = s - start_;
  const int64_t q = size_ - 1;
  double lo = kInf;
  if (j_prev < lags_) {
    lo = detail::kernels().euclid_step(acc_.data() + j_prev, &buf_[q - l_max_ + j_prev],
                                       &buf_[sb - 1 - l_max_ + j_prev], buf_[q], buf_[sb - 1],
                                       lags_ - j_prev);
  }
  if (j_lo < j_prev && j_lo < lags_) {  // lag s is new: window 0 against window s
    acc_[j_lo] = exact(sb - s, sb);
    lo = std::min(lo, acc_[j_lo]);
  }
  if (!bad_.empty()) {
    if (bad_.back() >= s) return kInf;
    lo = min_valid(s, j_lo);
  }
  return lo == kInf ? kInf : std::sqrt(std::max(lo, 0.0));
}

double IncrementalProfile::min_valid(int64_t s, int64_t j_lo) const {
  double lo = kInf;
  int64_t j = j_lo;
  for (int64_t b : bad_) {  // windows b - m + 1 .. b hold b: lags s - b .. s - b + m - 1
    const int64_t skip_lo = b - m_ + 1 - s + l_max_;
    const int64_t skip_hi = b - s + l_max_;
    for (; j < std::min(skip_lo, lags_); ++j) lo = std::min(lo, acc_[j]);
    j = std::max(j, skip_hi + 1);
  }
  for (; j < lags_; ++j) lo = std::min(lo, acc_[j]);
  return lo;
}

double IncrementalProfile::push_pearson(int64_t s, int64_t j_lo, int64_t j_prev) {
  const int64_t sb = s - start_;
  const int64_t q = size_ - 1;
  stats_.next(&buf_[sb], m_, s);
  const bool invalid = !bad_.empty() && bad_.back() >= s;
  const bool constant = !invalid && (run_ >= m_ || !(stats_.m2 > 0));
  mu_[sb] = stats_.mu;
  inv_[sb] = (invalid || constant) ? kNaN : 1.0 / std::sqrt(stats_.m2);
  constant_[sb] = constant ? 1 : 0;
  if (s >= 1) {
    df_[sb] = (buf_[q] - buf_[sb - 1]) / 2;
    dg_[sb] = (buf_[q] - stats_.mu) + (buf_[sb - 1] - mu_[sb - 1]);
  }

  double best = -kInf;
  const int64_t w0 = sb - l_max_;  // buffer position of the window at j = 0
  if (j_prev < lags_) {
    best = detail::kernels().pearson_step(acc_.data() + j_prev, &df_[w0 + j_prev],
                                          &dg_[w0 + j_prev], &inv_[w0 + j_prev], df_[sb], dg_[sb],
                                          inv_[sb], lags_ - j_prev);
  }
  if (j_lo < j_prev && j_lo < lags_) {  // lag s is new: window 0 against window s
    acc_[j_lo] = exact(sb - s, sb);
    const double r = acc_[j_lo] * inv_[sb - s] * inv_[sb];
    if (r > best) best = r;
  }
  if (invalid || j_lo >= lags_) return kInf;
  // STUMPY's rule for constant windows (matrix_profile.h).
  bool any_constant = false, any_regular = false;
  for (int64_t j = j_lo; j < lags_; ++j) {
    any_constant |= constant_[w0 + j] != 0;
    any_regular |= !std::isnan(inv_[w0 + j]);
  }
  if (constant) {
    if (any_constant) return 0.0;
    return any_regular ? std::sqrt(static_cast<double>(m_)) : kInf;
  }
  if (any_constant) best = std::max(best, 0.5);
  if (best == -kInf) return kInf;
  return std::sqrt(std::max(0.0, 2.0 * m_ * (1.0 - std::min(best, 1.0))));
}

void IncrementalProfile::push(std::span<const double> values, std::span<double> out) {
  if (out.size() != values.size()) {
    throw std::invalid_argument("push: " + std::to_string(values.size()) + " values but room for " +
                                std::to_string(out.size()) + " results");
  }
  for (size_t i = 0; i < values.size(); ++i) out[i] = push(values[i]);
}

}  // namespace vigil::detect
