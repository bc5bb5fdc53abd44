// Fused dequantise-and-dot kernels for the matrix layer (matmul.cpp), built
// twice from simd_kernels.inc: once for AVX-512 and once for AVX2/FMA/F16C,
// each in its own translation unit so no other code is compiled for those
// instruction sets. matmul.cpp picks one at run time (CPUID).
//
//   wb::cpu::simd::MatRef m{code, data, row_bytes, rows, cols};
//   wb::cpu::simd::avx512_rows(m, x, n, y, r0, r1);   // rows [r0, r1) of y = W x
//
// Each weight row is read once straight from the file map and converted in
// registers; four rows go at once (four memory streams in flight for decode)
// and up to four activation columns share every converted weight vector.
// Prefill uses the GEMM entry points below; the WKV-7 step and a vector
// exp/sigmoid live here too so nothing else needs an ISA-specific file.
#pragma once
#include <cstdint>

namespace wb::cpu::simd {

// Weight types the kernels handle; others take the generic path in matmul.cpp.
enum Code : int { kF32 = 0, kF16 = 1, kQ8_0 = 2, kQ4_0 = 3 };

struct MatRef {
  int code;
  const uint8_t* data;
  uint64_t row_bytes;
  int64_t rows, cols;  // quantised types: cols % 32 == 0
};

// y[j * m.rows + r] = row r · x[j * m.cols ...] for r in [r0, r1), j < n.
void avx512_rows(const MatRef& m, const float* x, int n, float* y, int64_t r0, int64_t r1);
void avx2_rows(const MatRef& m, const float* x, int n, float* y, int64_t r0, int64_t r1);

// How far ahead of each row's read position decode prefetches, at least
// (bandwidth.cpp's prefetching passes use the same distance). Rows are
// consecutive in memory and read four at a time, so the row kernel asks for
// the same place in the next group of four (6 KiB for 768-wide f16 rows), but
// never less than this and never more than 32 KiB: measured on this kind of
// VM, 768 bytes ahead streamed at ~0.75-0.8 of a plain two-thread sum and the
// next group at ~1.0-1.1 (0.45B decode: fraction ~0.80 -> ~0.89 against a
// fixed 6 KiB, which lands inside the current group for 1024-wide rows).
constexpr int64_t kDecodePrefetchBytes = 6144;

// Sequence GEMM (prefill chunks, batches over 4 columns): the same y = W x as
// the *_rows kernels and bit-identical to them per output, for row blocks
// [b0, b1) (block b = rows b*kGemmRows ...), all n columns.
constexpr int kGemmRowsAvx512 = 6, kGemmColsAvx512 = 4;
constexpr int kGemmRowsAvx2 = 4, kGemmColsAvx2 = 2;
constexpr int kGemmPassColumns = 96;  // columns per pass; a multiple of both column groups
void avx512_gemm(const MatRef& m, const float* x, int n, float* y, int64_t b0, int64_t b1);
void avx2_gemm(const MatRef& m, const float* x, int n, float* y, int64_t b0, int64_t b1);

// In place: x[i] = exp(x[i]) (inputs clamped to [-87, 88]); x[i] = 1 / (1 + exp(-x[i])).
void avx512_exp(float* x, int64_t n);
void avx2_exp(float* x, int64_t n);
void avx512_sigmoid(float* x, int64_t n);
void avx2_sigmoid(float* x, int64_t n);
// In place: x[i] = max(x[i], 0)^2 (the RWKV channel mix's activation).
void avx512_relu_square(float* x, int64_t n);
void avx2_relu_square(float* x, int64_t n);

// One RWKV-7 WKV step of one head with N x N state S (S[i][j], i value index,
// j key index; N a multiple of 16):
//   sa = -(S[i] . kk);  S[i][j] = S[i][j] w[j] + sa kka[j] + v[i] k[j];  y[i] = S[i] . r
void avx512_wkv7(float* S, int N, const float* r, const float* w, const float* k, const float* v, const float* kk,
                 const float* kka, float* y);
void avx2_wkv7(float* S, int N, const float* r, const float* w, const float* k, const float* v, const float* kk,
               const float* kka, float* y);

}  // namespace wb::cpu::simd
