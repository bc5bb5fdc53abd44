// The one matrix layer every CPU architecture uses: weights in their stored
// dtype (f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0), read straight from the
// file map, times n activation vectors.
//
//   wb::cpu::ThreadPool pool(0);                  // 0 = all cores
//   wb::cpu::Mat w = ...;                          // rows = outputs, cols = inputs
//   wb::cpu::matmul(w, x, n, y, pool);             // x: n x cols, y: n x rows
//
// One token is n = 1 (mat-vec); a decode batch is n > 1, and each weight row
// is then read once and used for all n vectors. From 16 columns on (prefill
// chunks) f32/f16/q8_0/q4_0 go through a register-tiled GEMM instead. f32,
// f16, q8_0 and q4_0 rows are converted in registers (AVX-512 or
// AVX2/FMA/F16C, chosen at run time: simd_kernels.hpp); other types are
// decoded into a row buffer.
// The scalar path gives the same values up to float summation order.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "core/model/tensor_file.hpp"
#include "core/util/step_gate.hpp"

namespace wb::cpu {

// A row-major matrix view: `rows` rows of `cols` elements, each row starting
// `row_bytes` after the previous one. Quantised rows hold cols/32 blocks.
struct Mat {
  DType dtype = DType::f32;
  int64_t rows = 0;
  int64_t cols = 0;
  const uint8_t* data = nullptr;
  uint64_t row_bytes = 0;

  const uint8_t* row(int64_t r) const { return data + static_cast<uint64_t>(r) * row_bytes; }
};

// A fixed set of worker threads splitting index ranges. Not re-entrant: one
// parallel_for at a time (a Model is used from one thread at a time).
class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // total threads including the caller; <= 0: all cores
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // Calls fn(i) for every i in [0, n), spread over the threads; returns when all are done.
  void parallel_for(int64_t n, const std::function<void(int64_t)>& fn);
  // Every parallel_for first passes `gate` (nullptr: none); Model::set_step_gate.
  void set_gate(const StepGate* gate) { gate_.store(gate, std::memory_order_release); }

 private:
  void worker_loop();
  void drain();
  std::vector<std::thread> workers_;
  // Published by the generation_ increment (release), read after it (acquire).
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t job_n_ = 0;
  alignas(64) std::atomic<int64_t> next_{0};
  alignas(64) std::atomic<uint64_t> generation_{0};
  alignas(64) std::atomic<uint64_t> open_{0};  // generation of the job still taking workers, 0 = none
  alignas(64) std::atomic<int> busy_{0};       // workers inside a job
  std::atomic<bool> stop_{false};
  std::atomic<const StepGate*> gate_{nullptr};
};

// Which SIMD kernels matmul uses: the best the CPU has, unless lowered with
// limit_simd_level (tests compare the paths; the setting is process-wide).
enum class SimdLevel : int { scalar = 0, avx2 = 1, avx512 = 2 };
SimdLevel simd_level();
void limit_simd_level(SimdLevel max);
const char* simd_level_name(SimdLevel l);

// Decodes n consecutive elements of one row (n a multiple of the block size).
void dequantize_row(DType t, const uint8_t* src, float* dst, int64_t n);
// Sum of a[i] * b[i].
float dot(const float* a, const float* b, int64_t n);
// y[j * w.rows + r] = sum_c w[r][c] * x[j * w.cols + c] for j < n.
void matmul(const Mat& w, const float* x, int n, float* y, ThreadPool& pool);

// Several independent products over the same n columns in one parallel job:
// one hand-off and one wait instead of one per product, and the small ones
// (LoRA projections) run beside the big ones instead of on one thread while
// the others wait. Each output is exactly what matmul() gives.
struct MatJob {
  const Mat* w;
  const float* x;
  float* y;
};
void matmul_group(const MatJob* jobs, int n_jobs, int n, ThreadPool& pool);

float half_to_float(uint16_t h);

// In place over n floats: exp, and the logistic sigmoid 1 / (1 + exp(-x)).
// SIMD (a ~1 ulp polynomial exp, inputs clamped to [-87, 88]) or libm.
void exp_inplace(float* x, int64_t n);
void sigmoid_inplace(float* x, int64_t n);
// In place over n floats: x = max(x, 0)^2.
void relu_square_inplace(float* x, int64_t n);

// One RWKV-7 WKV step of one head (N x N state S[i][j], i value index, j key
// index): sa = -(S[i] . kk); S[i][j] = S[i][j] w[j] + sa kka[j] + v[i] k[j];
// y[i] = S[i] . r. SIMD when N is a multiple of 16, else scalar.
void wkv7_step(float* S, int N, const float* r, const float* w, const float* k, const float* v, const float* kk,
               const float* kka, float* y);

}  // namespace wb::cpu
