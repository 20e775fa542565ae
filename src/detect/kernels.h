// Internal to src/detect: the hot loops of the matrix profile, compiled once per instruction set
// (SSE2, AVX2 + FMA, AVX-512; kernels.cpp) and picked at run time for the CPU. Callers are
// matrix_profile.cpp and incremental_profile.cpp; nothing outside src/detect includes this.
//
// Scores: larger is better. z-normalised: the Pearson correlation. Non-normalised: minus the
// squared Euclidean distance. NaN never matches (it fails every comparison), which is how
// invalid windows (a NaN or inf inside), constant windows (z-normalised; handled apart) and
// lanes past the end stay out of every profile.
#pragma once

#include <cstdint>
#include <span>

namespace vigil::detect::detail {

// Entries every per-window array (and the series) can be read past its end; never matches.
inline constexpr int kPad = 64;
// A band recomputes its running sums exactly every kRefreshRows rows (and at its first row), so
// rounding never accumulates over more than this many steps along a diagonal.
inline constexpr int64_t kRefreshRows = 4096;

// One series' windows as the kernels read them. Arrays are indexed by window start and readable
// up to count + kPad (t: n + kPad). z-normalised kernels read mu, df, dg, inv_norm; non-normalised
// ones read penalty (0, or NaN for a window that never matches).
struct WindowsView {
  const double* t = nullptr;         // the series, centred, non-finite values replaced by 0
  const double* mu = nullptr;        // window means
  const double* df = nullptr;        // (t[i+m-1] - t[i-1]) / 2            (i ≥ 1)
  const double* dg = nullptr;        // (t[i+m-1] - mu[i]) + (t[i-1] - mu[i-1])   (i ≥ 1)
  const double* inv_norm = nullptr;  // 1 / ||t[i..i+m) - mu[i]||, NaN: never matches
  const double* penalty = nullptr;   // 0, or NaN: never matches
  int64_t count = 0;                 // windows
  int m = 0;
};

// A band of the distance matrix: diagonals g0 .. g0 + band - 1 (column = row + g), rows
// [0, rows). Lanes past g_last hold NaN. update_cols: score[column] from row; update_rows:
// score[row] from column (the index stored is the other side's window).
struct BandJob {
  WindowsView x;  // rows
  WindowsView y;  // columns
  int64_t g0 = 0;
  int64_t g_last = 0;
  int64_t rows = 0;
  bool pearson = true;
  bool update_rows = false;
  bool update_cols = true;
};

struct Kernels {
  const char* name;
  int band;  // diagonals per band
  void (*run_band)(const BandJob& job, double* score, int64_t* index);
  // Incremental, non-normalised: d2[j] += (a1 - t1[j])^2 - (a0 - t0[j])^2 for j in [0, n);
  // returns the smallest new d2[j] (+inf for n = 0).
  double (*euclid_step)(double* d2, const double* t1, const double* t0, double a1, double a0,
                        int64_t n);
  // Incremental, z-normalised: cov[j] += df_new * dg[j] + dg_new * df[j]; returns the largest
  // cov[j] * inv[j] * inv_new (NaN never; -inf for none).
  double (*pearson_step)(double* cov, const double* df, const double* dg, const double* inv,
                         double df_new, double dg_new, double inv_new, int64_t n);
};

// The fastest kernels this CPU runs (chosen once), unless a test forced others.
const Kernels& kernels();
// Every kernel set this CPU can run, slowest first (tests compare them).
std::span<const Kernels* const> supported_kernels();
// Tests and benchmarks: use `k` (nullptr: back to the best) in every later call. Not safe with
// running computations.
void force_kernels(const Kernels* k);

// Preference between two candidates of one profile entry: the higher score, then the lower
// index, so that results do not depend on the order bands are computed in.
inline bool better(double s, int64_t i, double best, int64_t best_index) {
  return s > best || (s == best && i < best_index);
}

}  // namespace vigil::detect::detail
