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

}  // namespace wb::cpu::simd
