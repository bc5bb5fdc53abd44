// AVX-512 instance of the fused kernels (see simd_kernels.hpp). Headers come
// before the target pragma so only this file's own functions use AVX-512.
//
// GCC 12's AVX-512 headers trip its own -W(maybe-)uninitialized on the
// deliberately undefined pass-through operands (GCC bug 105593); silenced for
// this file only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "core/model/cpu/simd_kernels.hpp"

// GCC: the target pragma; clang (the libFuzzer build) ignores it and takes
// the same target as an attribute on every function up to the end of the file.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,fma,f16c"))), apply_to = function)
#else
#pragma GCC target("avx512f,avx512bw,avx512vl,fma,f16c")
#endif

namespace wb::cpu::simd {

using V = __m512;
#define WB_SIMD_W 16
#define WB_SIMD_ENTRY avx512_rows
#define WB_SIMD_GEMM avx512_gemm
#define WB_SIMD_WKV7 avx512_wkv7
#define WB_SIMD_EXP avx512_exp
#define WB_SIMD_SIGMOID avx512_sigmoid
#define WB_SIMD_RELU2 avx512_relu_square
#define WB_GEMM_MR 6
#define WB_GEMM_NB 4

namespace {
inline V vzero() { return _mm512_setzero_ps(); }
inline V vload(const float* p) { return _mm512_loadu_ps(p); }
inline V vload_f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
inline V vload_i8(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
// 16 nibbles: bytes p[0..15] shifted right by `shift`, low 4 bits, minus 8.
inline V vload_nib(const uint8_t* p, int shift) {
  __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  v = _mm512_and_si512(_mm512_srli_epi32(v, static_cast<unsigned>(shift)), _mm512_set1_epi32(15));
  return _mm512_cvtepi32_ps(_mm512_sub_epi32(v, _mm512_set1_epi32(8)));
}
inline void vstore(float* p, V v) { _mm512_storeu_ps(p, v); }
inline V vset1(float f) { return _mm512_set1_ps(f); }
inline V vmul(V a, V b) { return _mm512_mul_ps(a, b); }
inline V vfma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline float vhsum(V v) { return _mm512_reduce_add_ps(v); }
inline V vdiv(V a, V b) { return _mm512_div_ps(a, b); }
inline V vmax(V a, V b) { return _mm512_max_ps(a, b); }
inline V vmin(V a, V b) { return _mm512_min_ps(a, b); }
inline V vround(V a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
// y * 2^n for integral n (|n| <= 128).
inline V vscale2(V y, V n) { return _mm512_scalef_ps(y, n); }
inline float scalar_f16(const uint8_t* p) {
  uint16_t h;
  __builtin_memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}
}  // namespace

#include "core/model/cpu/simd_kernels.inc"

static_assert(WB_GEMM_MR == kGemmRowsAvx512 && WB_GEMM_NB == kGemmColsAvx512 && kGemmPassColumns % WB_GEMM_NB == 0);

}  // namespace wb::cpu::simd

#if defined(__clang__)
#pragma clang attribute pop
#endif
