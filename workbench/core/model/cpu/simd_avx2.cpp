// AVX2/FMA/F16C instance of the fused kernels (see simd_kernels.hpp).
#include <immintrin.h>

#include <cstdint>

#include "core/model/cpu/simd_kernels.hpp"

// GCC: the target pragma; clang (the libFuzzer build) ignores it and takes
// the same target as an attribute on every function up to the end of the file.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC target("avx2,fma,f16c")
#endif

namespace wb::cpu::simd {

using V = __m256;
#define WB_SIMD_W 8
#define WB_SIMD_ENTRY avx2_rows
#define WB_SIMD_GEMM avx2_gemm
#define WB_SIMD_WKV7 avx2_wkv7
#define WB_SIMD_EXP avx2_exp
#define WB_SIMD_SIGMOID avx2_sigmoid
#define WB_SIMD_RELU2 avx2_relu_square
#define WB_GEMM_MR 4
#define WB_GEMM_NB 2

namespace {
inline V vzero() { return _mm256_setzero_ps(); }
inline V vload(const float* p) { return _mm256_loadu_ps(p); }
inline V vload_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline V vload_i8(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
inline V vload_nib(const uint8_t* p, int shift) {
  __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  v = _mm256_and_si256(_mm256_srli_epi32(v, shift), _mm256_set1_epi32(15));
  return _mm256_cvtepi32_ps(_mm256_sub_epi32(v, _mm256_set1_epi32(8)));
}
inline void vstore(float* p, V v) { _mm256_storeu_ps(p, v); }
inline V vset1(float f) { return _mm256_set1_ps(f); }
inline V vmul(V a, V b) { return _mm256_mul_ps(a, b); }
inline V vfma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline float vhsum(V v) {
  __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}
inline V vdiv(V a, V b) { return _mm256_div_ps(a, b); }
inline V vmax(V a, V b) { return _mm256_max_ps(a, b); }
inline V vmin(V a, V b) { return _mm256_min_ps(a, b); }
inline V vround(V a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
// y * 2^n for integral n in [-126, 127] (the caller clamps): n added to the exponent field.
inline V vscale2(V y, V n) {
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}
inline float scalar_f16(const uint8_t* p) {
  uint16_t h;
  __builtin_memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}
}  // namespace

#include "core/model/cpu/simd_kernels.inc"

static_assert(WB_GEMM_MR == kGemmRowsAvx2 && WB_GEMM_NB == kGemmColsAvx2 && kGemmPassColumns % WB_GEMM_NB == 0);

}  // namespace wb::cpu::simd

#if defined(__clang__)
#pragma clang attribute pop
#endif
