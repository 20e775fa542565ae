// One copy of kernels_body.inc per instruction set: SSE2 (every x86-64), AVX2 + FMA
// (x86-64-v3) and AVX-512 (x86-64-v4), each in its own namespace and compiled for its target
// with `#pragma GCC target`, so the build needs no -march flag and runs on any x86-64; kernels()
// picks the widest one the CPU has. docs/decisions/0017-matrix-profile-kernels.md says why.
#include "detect/kernels.h"

#include <immintrin.h>

#include <atomic>

namespace vigil::detect::detail {
namespace sse2 {
struct Simd {
  static constexpr int kWidth = 2;
  using V = __m128d;
  using Mask = __m128d;
  static V load(const double* p) { return _mm_loadu_pd(p); }
  static void store(double* p, V v) { _mm_storeu_pd(p, v); }
  static V set1(double v) { return _mm_set1_pd(v); }
  static V add(V a, V b) { return _mm_add_pd(a, b); }
  static V sub(V a, V b) { return _mm_sub_pd(a, b); }
  static V mul(V a, V b) { return _mm_mul_pd(a, b); }
  static V fmadd(V a, V b, V c) { return _mm_add_pd(_mm_mul_pd(a, b), c); }
  static V fnmadd(V a, V b, V c) { return _mm_sub_pd(c, _mm_mul_pd(a, b)); }
  static double fma1(double a, double b, double c) { return a * b + c; }
  static V min(V a, V b) { return _mm_min_pd(a, b); }
  static V max_skip_nan(V a, V b) { return _mm_max_pd(a, b); }  // b when a is NaN
  static Mask ge(V a, V b) { return _mm_cmpge_pd(a, b); }       // false for NaN
  static Mask none() { return _mm_setzero_pd(); }
  static Mask or_(Mask a, Mask b) { return _mm_or_pd(a, b); }
  static bool any(Mask m) { return _mm_movemask_pd(m) != 0; }
};
#include "detect/kernels_body.inc"
}  // namespace sse2

// GCC: `#pragma GCC target`; clang (the fuzz build) knows neither it nor "x86-64-v3" as a
// feature, and takes the same features as a target attribute on every function instead.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
#endif
namespace avx2 {
struct Simd {
  static constexpr int kWidth = 4;
  using V = __m256d;
  using Mask = __m256d;
  static V load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
  static V set1(double v) { return _mm256_set1_pd(v); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V sub(V a, V b) { return _mm256_sub_pd(a, b); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V fnmadd(V a, V b, V c) { return _mm256_fnmadd_pd(a, b, c); }
  static double fma1(double a, double b, double c) { return __builtin_fma(a, b, c); }
  static V min(V a, V b) { return _mm256_min_pd(a, b); }
  static V max_skip_nan(V a, V b) { return _mm256_max_pd(a, b); }
  static Mask ge(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_GE_OQ); }
  static Mask none() { return _mm256_setzero_pd(); }
  static Mask or_(Mask a, Mask b) { return _mm256_or_pd(a, b); }
  static bool any(Mask m) { return _mm256_movemask_pd(m) != 0; }
};
#include "detect/kernels_body.inc"
}  // namespace avx2
#if defined(__clang__)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx2,fma,avx512f"))), apply_to = function)
#else
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
#endif
namespace avx512 {
struct Simd {
  static constexpr int kWidth = 8;
  using V = __m512d;
  using Mask = __mmask8;
  static V load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
  static V set1(double v) { return _mm512_set1_pd(v); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V sub(V a, V b) { return _mm512_sub_pd(a, b); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V fnmadd(V a, V b, V c) { return _mm512_fnmadd_pd(a, b, c); }
  static double fma1(double a, double b, double c) { return __builtin_fma(a, b, c); }
  // The maskz forms: GCC 12 warns that _mm512_min_pd's undefined pass-through is uninitialised.
  static V min(V a, V b) { return _mm512_maskz_min_pd(0xFF, a, b); }
  static V max_skip_nan(V a, V b) { return _mm512_maskz_max_pd(0xFF, a, b); }
  static Mask ge(V a, V b) { return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ); }
  static Mask none() { return 0; }
  static Mask or_(Mask a, Mask b) { return static_cast<Mask>(a | b); }
  static bool any(Mask m) { return m != 0; }
};
#include "detect/kernels_body.inc"
}  // namespace avx512
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace {
constexpr Kernels kSse2{"sse2", sse2::kBand, sse2::run_band, sse2::euclid_step, sse2::pearson_step};
constexpr Kernels kAvx2{"avx2", avx2::kBand, avx2::run_band, avx2::euclid_step, avx2::pearson_step};
constexpr Kernels kAvx512{"avx512", avx512::kBand, avx512::run_band, avx512::euclid_step,
                          avx512::pearson_step};

struct Supported {
  const Kernels* list[3];
  int size = 0;
  Supported() {
    list[size++] = &kSse2;
#if defined(__clang__)
    const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const bool v4 = v3 && __builtin_cpu_supports("avx512f");
#else
    const bool v3 = __builtin_cpu_supports("x86-64-v3");
    const bool v4 = __builtin_cpu_supports("x86-64-v4");
#endif
    if (v3) list[size++] = &kAvx2;
    if (v4) list[size++] = &kAvx512;
  }
};

const Supported& supported() {
  static const Supported s;
  return s;
}

std::atomic<const Kernels*> forced{nullptr};
}  // namespace

const Kernels& kernels() {
  if (const Kernels* k = forced.load(std::memory_order_relaxed)) return *k;
  const Supported& s = supported();
  return *s.list[s.size - 1];
}

std::span<const Kernels* const> supported_kernels() {
  const Supported& s = supported();
  return {s.list, static_cast<size_t>(s.size)};
}

void force_kernels(const Kernels* k) { forced.store(k, std::memory_order_relaxed); }

}  // namespace vigil::detect::detail
