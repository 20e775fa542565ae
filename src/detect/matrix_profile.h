// Matrix profiles: for every window of m points of a series, the distance to its nearest
// neighbour among the windows of the same series (self-join, trivial matches around itself
// excluded) or of another series (AB-join), and where that neighbour is. Pure computation: no
// I/O, no global state; every function may run on any thread at once with any other.
//
// Distances. normalize = true: z-normalised Euclidean distance, sqrt(2 m (1 - Pearson)), in
// [0, 2 sqrt(m)]. A constant window (all m points equal) has no z-normalisation; as in STUMPY,
// two constant windows are at distance 0 and a constant and a non-constant one at sqrt(m).
// normalize = false: plain Euclidean distance between the windows (STUMPY's aamp).
//
// Missing data. A window holding a NaN or an inf never matches: its own entry is +inf with index
// -1, and it is nobody's neighbour. An entry with no candidate at all (every other window
// invalid or trivial) is +inf with index -1 too.
//
// Exactness. Results match a naive O(n^2 m) computation to about 1e-9 relative on ordinary
// data: the series is shifted by its mean first (large offsets such as 1e12 cost nothing), the
// diagonals run SCAMP's mean-centred update (z-normalised) or a running sum of squared
// differences (non-normalised) in double precision, and each diagonal is recomputed exactly
// every 4 096 steps. Known limit: rounding is relative to the largest values a diagonal met since
// its last exact recompute, so where the series' scale drops sharply (noise of amplitude 1e6, then
// of amplitude 1) the windows after the drop can be off by ~1e-3 relative until that recompute
// (measured: 4e-4 z-normalised, 3e-3 plain). Ties between equal distances go to the lower index.
//
// Threads. self_join, ab_join and left_profile split the diagonals among `threads` threads
// (0: one per hardware thread); the result does not depend on the number of threads.
//
// Errors. Invalid arguments (m < 3, m longer than a series, negative exclusion or threads, ...)
// throw std::invalid_argument with a message meant for the caller's user (the API answers 422
// with it). std::bad_alloc if memory runs out. Nothing else throws.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace vigil::detect {

struct MatrixProfile {
  std::vector<double> distance;  // one per window: n - m + 1
  std::vector<int64_t> index;    // the neighbour's window start (in b for ab_join), or -1
};

struct Options {
  bool normalize = true;
  // Self-join and left profile: windows i and j with |i - j| <= exclusion are trivial matches.
  // Default m / 2 (PRODUCT.md: window 144, exclusion 72). Ignored by ab_join.
  std::optional<int> exclusion;
  int threads = 0;  // 0: std::thread::hardware_concurrency()
};

// The exclusion zone `options` gives for window m.
int exclusion_for(int m, const Options& options);

// Every window of t against every window of t outside its exclusion zone.
MatrixProfile self_join(std::span<const double> t, int m, const Options& options = {});

// Every window of a against every window of b: distance[i] is window i of a's nearest
// neighbour in b, index[i] its start in b.
MatrixProfile ab_join(std::span<const double> a, std::span<const double> b, int m,
                      const Options& options = {});

// The left profile: window j against the windows i that came before it, j - i > exclusion, and,
// when history > 0, only those that lie within the last `history` points up to window j's end
// (i >= j + m - history), as IncrementalProfile sees them. history must then exceed
// m + exclusion.
MatrixProfile left_profile(std::span<const double> t, int m, const Options& options = {},
                           int64_t history = 0);

struct Discord {
  int64_t index;    // window start
  double distance;  // its matrix-profile value
  bool operator==(const Discord&) const = default;
};

// The k windows farthest from their nearest neighbours, largest first, no two within
// `exclusion` of each other (|i - j| <= exclusion). Entries that are +inf or NaN (no valid
// neighbour) are not discords. Fewer than k when the profile runs out.
std::vector<Discord> top_discords(const MatrixProfile& profile, int k, int exclusion);

}  // namespace vigil::detect
