#include "core/model/cpu/matmul.hpp"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/model/cpu/simd_kernels.hpp"

namespace wb::cpu {

// ---------------------------------------------------------------- thread pool
//
// A decode step runs ~10 matrix products per layer, each only tens of
// microseconds long, so waking sleeping threads through a condition variable
// would cost as much as the work. Workers spin (with pause) for a while after
// each job and only then sleep on the generation counter (futex wait).

namespace {
constexpr int kSpinIters = 20000;
// After the pause-spin, yield a while before sleeping: on an oversubscribed
// machine the thread we wait for may be the one needing this core.
constexpr int kYieldIters = 64;
inline void cpu_relax() { _mm_pause(); }
}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::drain() {
  const std::function<void(int64_t)>& fn = *job_;
  for (;;) {
    const int64_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= job_n_) return;
    fn(i);
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    uint64_t g = generation_.load(std::memory_order_acquire);
    const StepGate* gate = gate_.load(std::memory_order_acquire);
    for (int spin = 0; g == seen && spin < kSpinIters + kYieldIters; ++spin) {
      // A closed gate means the next job is a while off (the caller waits
      // there for a frame to render): sleep now rather than spin on a CPU
      // the renderer needs.
      if (gate && gate->closed()) break;
      if (spin < kSpinIters)
        cpu_relax();
      else
        std::this_thread::yield();
      g = generation_.load(std::memory_order_acquire);
    }
    while (g == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      g = generation_.load(std::memory_order_acquire);
    }
    seen = g;
    if (stop_.load(std::memory_order_acquire)) return;
    // Join job g only while it is still open. A worker that was descheduled
    // and arrives late finds it closed and skips it, so the caller never
    // waits for a thread that took no task (Dekker-style: both sides seq_cst).
    busy_.fetch_add(1);
    if (open_.load() == g) drain();
    if (busy_.fetch_sub(1) == 1) busy_.notify_one();
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  if (const StepGate* g = gate_.load(std::memory_order_acquire)) g->pass();
  if (workers_.empty() || n == 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  job_ = &fn;
  job_n_ = n;
  next_.store(0, std::memory_order_relaxed);
  const uint64_t g = generation_.load(std::memory_order_relaxed) + 1;
  open_.store(g);
  generation_.store(g);
  generation_.notify_all();
  drain();
  open_.store(0);
  // Only workers that joined before the close can still be running tasks.
  int left = busy_.load();
  for (int spin = 0; left != 0 && spin < kSpinIters + kYieldIters; ++spin) {
    if (spin < kSpinIters)
      cpu_relax();
    else
      std::this_thread::yield();
    left = busy_.load();
  }
  while (left != 0) {
    busy_.wait(left);
    left = busy_.load();
  }
  job_ = nullptr;
}

// ---------------------------------------------------------------- conversions

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((man & 0x400) == 0) {
        man <<= 1;
        --exp;
      }
      man &= 0x3ff;
      bits = sign | (exp << 23) | (man << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

namespace {

inline uint16_t rd16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
inline uint32_t rd32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

bool cpu_has_f16c() {
  // Not every compiler knows "f16c" in __builtin_cpu_supports: ask CPUID (leaf 1, ECX bit 29).
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) != 0 && (c & (1u << 29)) != 0;
}

bool have_avx2_fma_f16c() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
  return ok;
}

__attribute__((target("avx2,fma,f16c"))) void f16_row_avx2(const uint8_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) dst[i] = half_to_float(rd16(src + 2 * i));
}

__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  __m128 lo = _mm256_castps256_ps128(s0), hi = _mm256_extractf128_ps(s0, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_hadd_ps(lo, lo);
  lo = _mm_hadd_ps(lo, lo);
  float s = _mm_cvtss_f32(lo);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Decodes n elements of q4_0/q4_1/q5_0/q5_1/q8_0 rows, 32 per block (layouts
// as in the scalar code of dequantize_row).
__attribute__((target("avx2,fma,f16c"))) void quant_row_avx2(DType t, const uint8_t* src, float* dst, int64_t n) {
  const int bb = dtype_block_bytes(t);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i one = _mm256_set1_epi32(1);
  const __m128i low4 = _mm_set1_epi8(0x0f);
  for (int64_t b = 0; b < n / 32; ++b, src += bb, dst += 32) {
    const __m256 d = _mm256_set1_ps(half_to_float(rd16(src)));
    if (t == DType::q8_0) {
      for (int g = 0; g < 4; ++g) {
        const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + 2 + 8 * g));
        _mm256_storeu_ps(dst + 8 * g, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), d));
      }
      continue;
    }
    const bool has_m = t == DType::q4_1 || t == DType::q5_1;
    const bool five = t == DType::q5_0 || t == DType::q5_1;
    const __m256 m = _mm256_set1_ps(has_m ? half_to_float(rd16(src + 2)) : 0.0f);
    const uint8_t* qs = src + 2 + (has_m ? 2 : 0) + (five ? 4 : 0);
    const uint32_t qh = five ? rd32(src + 2 + (has_m ? 2 : 0)) : 0;
    const int offset = has_m ? 0 : (five ? 16 : 8);
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i lo = _mm_and_si128(q, low4), hi = _mm_and_si128(_mm_srli_epi16(q, 4), low4);
    const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    const __m256i qhv = _mm256_set1_epi32(static_cast<int>(qh));
    const __m256i off = _mm256_set1_epi32(offset);
    for (int g = 0; g < 4; ++g) {
      __m256i v = _mm256_cvtepu8_epi32(parts[g]);
      if (five) {  // element e takes bit e of qh as its fifth bit
        const __m256i bit = _mm256_and_si256(_mm256_srlv_epi32(qhv, _mm256_add_epi32(lane, _mm256_set1_epi32(8 * g))), one);
        v = _mm256_or_si256(v, _mm256_slli_epi32(bit, 4));
      }
      v = _mm256_sub_epi32(v, off);
      _mm256_storeu_ps(dst + 8 * g, _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), d, m));
    }
  }
}

inline float hsum(__m256 v) __attribute__((target("avx2,fma")));
inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_hadd_ps(lo, lo);
  lo = _mm_hadd_ps(lo, lo);
  return _mm_cvtss_f32(lo);
}

// Two weight rows times four activation columns at once: each loaded row chunk
// serves four FMAs, which is what makes prefill and batched decode cheaper per
// token than single decode. out[r * 4 + j] = a_r · x_j, x_j = x + j * stride.
__attribute__((target("avx2,fma"))) void dot_2x4_avx2(const float* a0, const float* a1, const float* x, int64_t stride,
                                                      int64_t n, float* out) {
  __m256 acc[8];
  for (auto& v : acc) v = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 r0 = _mm256_loadu_ps(a0 + i), r1 = _mm256_loadu_ps(a1 + i);
    for (int j = 0; j < 4; ++j) {
      const __m256 xj = _mm256_loadu_ps(x + j * stride + i);
      acc[j] = _mm256_fmadd_ps(r0, xj, acc[j]);
      acc[4 + j] = _mm256_fmadd_ps(r1, xj, acc[4 + j]);
    }
  }
  for (int j = 0; j < 4; ++j) {
    float s0 = hsum(acc[j]), s1 = hsum(acc[4 + j]);
    for (int64_t k = i; k < n; ++k) {
      s0 += a0[k] * x[j * stride + k];
      s1 += a1[k] * x[j * stride + k];
    }
    out[j] = s0;
    out[4 + j] = s1;
  }
}

float dot_scalar(const float* a, const float* b, int64_t n) {
  float s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += a[i + k] * b[i + k];
  float t = 0;
  for (; i < n; ++i) t += a[i] * b[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + t;
}

}  // namespace

void dequantize_row(DType t, const uint8_t* src, float* dst, int64_t n) {
  switch (t) {
    case DType::f32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::f16:
      if (simd_level() != SimdLevel::scalar) return f16_row_avx2(src, dst, n);
      for (int64_t i = 0; i < n; ++i) dst[i] = half_to_float(rd16(src + 2 * i));
      return;
    case DType::bf16:
      for (int64_t i = 0; i < n; ++i) {
        const uint32_t bits = uint32_t(rd16(src + 2 * i)) << 16;
        std::memcpy(dst + i, &bits, 4);
      }
      return;
    default: break;
  }
  if (simd_level() != SimdLevel::scalar) return quant_row_avx2(t, src, dst, n);
  // ggml block layouts (fixtures README §3.3): 32 elements per block.
  const int64_t nb = n / 32;
  const int bb = dtype_block_bytes(t);
  for (int64_t b = 0; b < nb; ++b, src += bb, dst += 32) {
    const float d = half_to_float(rd16(src));
    switch (t) {
      case DType::q4_0:
        for (int j = 0; j < 16; ++j) {
          dst[j] = float((src[2 + j] & 0x0f) - 8) * d;
          dst[j + 16] = float((src[2 + j] >> 4) - 8) * d;
        }
        break;
      case DType::q4_1: {
        const float m = half_to_float(rd16(src + 2));
        for (int j = 0; j < 16; ++j) {
          dst[j] = float(src[4 + j] & 0x0f) * d + m;
          dst[j + 16] = float(src[4 + j] >> 4) * d + m;
        }
        break;
      }
      case DType::q5_0: {
        const uint32_t qh = rd32(src + 2);
        const uint8_t* qs = src + 6;
        for (int j = 0; j < 16; ++j) {
          const int lo = int((qs[j] & 0x0f) | (((qh >> j) & 1u) << 4)) - 16;
          const int hi = int((qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4)) - 16;
          dst[j] = float(lo) * d;
          dst[j + 16] = float(hi) * d;
        }
        break;
      }
      case DType::q5_1: {
        const float m = half_to_float(rd16(src + 2));
        const uint32_t qh = rd32(src + 4);
        const uint8_t* qs = src + 8;
        for (int j = 0; j < 16; ++j) {
          const uint32_t lo = (qs[j] & 0x0f) | (((qh >> j) & 1u) << 4);
          const uint32_t hi = (qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4);
          dst[j] = float(lo) * d + m;
          dst[j + 16] = float(hi) * d + m;
        }
        break;
      }
      case DType::q8_0:
        for (int j = 0; j < 32; ++j) dst[j] = float(static_cast<int8_t>(src[2 + j])) * d;
        break;
      default: break;
    }
  }
}

float dot(const float* a, const float* b, int64_t n) {
  return simd_level() != SimdLevel::scalar ? dot_avx2(a, b, n) : dot_scalar(a, b, n);
}

namespace {

SimdLevel detect_simd() {
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      have_avx2_fma_f16c())
    return SimdLevel::avx512;
  return have_avx2_fma_f16c() ? SimdLevel::avx2 : SimdLevel::scalar;
}

std::atomic<int>& simd_override() {
  static std::atomic<int> v{-1};
  return v;
}

int simd_code(DType t) {
  switch (t) {
    case DType::f32: return simd::kF32;
    case DType::f16: return simd::kF16;
    case DType::q8_0: return simd::kQ8_0;
    case DType::q4_0: return simd::kQ4_0;
    default: return -1;
  }
}

}  // namespace

SimdLevel simd_level() {
  static const SimdLevel best = detect_simd();
  const int o = simd_override().load(std::memory_order_relaxed);
  return o >= 0 && o < static_cast<int>(best) ? static_cast<SimdLevel>(o) : best;
}

void limit_simd_level(SimdLevel max) { simd_override().store(static_cast<int>(max), std::memory_order_relaxed); }

const char* simd_level_name(SimdLevel l) {
  return l == SimdLevel::avx512 ? "avx512" : l == SimdLevel::avx2 ? "avx2" : "scalar";
}

namespace {

// From this many columns on the register-tiled GEMM beats the row kernels
// (both give bit-identical outputs, so the switch is invisible in results).
constexpr int kGemmMinColumns = 5;

// Tasks per thread for one product. A parallel job ends when its last task
// does, so with T tasks per thread a thread waits for up to ~1/T of the job:
// decode tasks are short memory streams and are cut finer than GEMM tasks.
constexpr int kRowTasksPerThread = 16;
constexpr int kGemmTasksPerThread = 8;

void gemm(const Mat& w, int code, SimdLevel level, const float* x, int n, float* y, ThreadPool& pool, int threads) {
  const bool wide = level == SimdLevel::avx512;
  const int MR = wide ? simd::kGemmRowsAvx512 : simd::kGemmRowsAvx2;
  auto kernel = wide ? &simd::avx512_gemm : &simd::avx2_gemm;
  const simd::MatRef m{code, w.data, w.row_bytes, w.rows, w.cols};
  const int64_t blocks = (w.rows + MR - 1) / MR;
  if (threads == 1) return kernel(m, x, n, y, 0, blocks);
  // A few blocks per task so a thread slowed by the shared machine does not hold the others up.
  const int64_t n_tasks = std::min<int64_t>(blocks, int64_t(threads) * kGemmTasksPerThread);
  const int64_t per = (blocks + n_tasks - 1) / n_tasks;
  pool.parallel_for(n_tasks, [&](int64_t t) {
    const int64_t b0 = t * per, b1 = std::min(blocks, b0 + per);
    if (b0 < b1) kernel(m, x, n, y, b0, b1);
  });
}

}  // namespace

void exp_inplace(float* x, int64_t n) {
  const SimdLevel level = simd_level();
  if (level == SimdLevel::avx512) return simd::avx512_exp(x, n);
  if (level == SimdLevel::avx2) return simd::avx2_exp(x, n);
  for (int64_t i = 0; i < n; ++i) x[i] = std::exp(x[i]);
}

void sigmoid_inplace(float* x, int64_t n) {
  const SimdLevel level = simd_level();
  if (level == SimdLevel::avx512) return simd::avx512_sigmoid(x, n);
  if (level == SimdLevel::avx2) return simd::avx2_sigmoid(x, n);
  for (int64_t i = 0; i < n; ++i) x[i] = 1.0f / (1.0f + std::exp(-x[i]));
}

void relu_square_inplace(float* x, int64_t n) {
  const SimdLevel level = simd_level();
  if (level == SimdLevel::avx512) return simd::avx512_relu_square(x, n);
  if (level == SimdLevel::avx2) return simd::avx2_relu_square(x, n);
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] * x[i] : 0.0f;
}

void wkv7_step(float* S, int N, const float* r, const float* w, const float* k, const float* v, const float* kk,
               const float* kka, float* y) {
  const SimdLevel level = simd_level();
  if (level != SimdLevel::scalar && N % 16 == 0) {
    (level == SimdLevel::avx512 ? simd::avx512_wkv7 : simd::avx2_wkv7)(S, N, r, w, k, v, kk, kka, y);
    return;
  }
  for (int i = 0; i < N; ++i) {
    float* row = S + size_t(i) * N;
    const float sa = -dot(row, kk, N);
    for (int j = 0; j < N; ++j) row[j] = row[j] * w[j] + sa * kka[j] + v[i] * k[j];
    y[i] = dot(row, r, N);
  }
}

void matmul_group(const MatJob* jobs, int n_jobs, int n, ThreadPool& pool) {
  const SimdLevel level = simd_level();
  bool fused = level != SimdLevel::scalar && n > 0;
  int64_t total = 0;
  for (int i = 0; i < n_jobs; ++i) {
    fused = fused && simd_code(jobs[i].w->dtype) >= 0;
    total += jobs[i].w->rows * jobs[i].w->cols;
  }
  if (!fused || pool.size() == 1 || n_jobs == 1) {
    for (int i = 0; i < n_jobs; ++i) matmul(*jobs[i].w, jobs[i].x, n, jobs[i].y, pool);
    return;
  }
  // Tasks of equal weight counts (see kRowTasksPerThread), in whole row units
  // of the kernel that will run them (4 rows for the row kernel, a GEMM row block).
  const bool gemm_path = n >= kGemmMinColumns;
  const bool wide = level == SimdLevel::avx512;
  const int unit = gemm_path ? (wide ? simd::kGemmRowsAvx512 : simd::kGemmRowsAvx2) : 4;
  const int64_t target =
      std::max<int64_t>(1, total / (int64_t(pool.size()) * (gemm_path ? kGemmTasksPerThread : kRowTasksPerThread)));
  struct Task {
    int job;
    int64_t r0, r1;  // rows
  };
  std::vector<Task> tasks;
  for (int i = 0; i < n_jobs; ++i) {
    const Mat& w = *jobs[i].w;
    if (w.rows <= 0 || w.cols <= 0) continue;
    const int64_t units = (w.rows + unit - 1) / unit;
    const int64_t per = std::clamp<int64_t>(target / (w.cols * unit), 1, units);
    for (int64_t u = 0; u < units; u += per)
      tasks.push_back({i, u * unit, std::min(w.rows, (u + per) * unit)});
  }
  pool.parallel_for(int64_t(tasks.size()), [&](int64_t t) {
    const Task& k = tasks[size_t(t)];
    const Mat& w = *jobs[k.job].w;
    const simd::MatRef m{simd_code(w.dtype), w.data, w.row_bytes, w.rows, w.cols};
    if (gemm_path)
      (wide ? simd::avx512_gemm : simd::avx2_gemm)(m, jobs[k.job].x, n, jobs[k.job].y, k.r0 / unit,
                                                   (k.r1 + unit - 1) / unit);
    else
      (wide ? simd::avx512_rows : simd::avx2_rows)(m, jobs[k.job].x, n, jobs[k.job].y, k.r0, k.r1);
  });
}

void matmul(const Mat& w, const float* x, int n, float* y, ThreadPool& pool) {
  if (w.rows <= 0 || w.cols <= 0 || n <= 0) return;
  const int64_t work = w.rows * w.cols * std::max(1, n);
  // Small products (the RWKV-7 LoRA matrices in decode) stay on the calling
  // thread: a thread hand-off costs more than the work, and on a loaded machine
  // each one risks waiting for a descheduled worker.
  const int threads = work < (int64_t(1) << 17) ? 1 : pool.size();
  const SimdLevel level = simd_level();
  const int code = simd_code(w.dtype);
  if (level != SimdLevel::scalar && code >= 0 && n >= kGemmMinColumns) {
    gemm(w, code, level, x, n, y, pool, threads);
    return;
  }
  if (level != SimdLevel::scalar && code >= 0) {
    // Fused path: rows in multiples of 4 per task, a few tasks per thread so a
    // thread slowed by the shared machine does not hold the others up.
    const simd::MatRef m{code, w.data, w.row_bytes, w.rows, w.cols};
    auto kernel = level == SimdLevel::avx512 ? &simd::avx512_rows : &simd::avx2_rows;
    const int64_t n_tasks =
        std::max<int64_t>(1, std::min<int64_t>((w.rows + 3) / 4, int64_t(threads) * kRowTasksPerThread));
    const int64_t per = ((w.rows + n_tasks - 1) / n_tasks + 3) / 4 * 4;
    auto task = [&](int64_t t) {
      const int64_t r0 = t * per, r1 = std::min(w.rows, r0 + per);
      if (r0 < r1) kernel(m, x, n, y, r0, r1);
    };
    if (threads == 1) {
      kernel(m, x, n, y, 0, w.rows);
    } else {
      pool.parallel_for(n_tasks, task);
    }
    return;
  }
  // Generic path (bf16, q4_1, q5_x, or no SIMD): decode rows into a buffer.
  const int64_t n_tasks = std::min<int64_t>(w.rows, int64_t(threads) * 4);
  const int64_t per = (w.rows + n_tasks - 1) / n_tasks;
  const bool simd = level != SimdLevel::scalar;
  auto task = [&](int64_t t) {
    const int64_t r0 = t * per, r1 = std::min(w.rows, r0 + per);
    std::vector<float> buf(2 * static_cast<size_t>(w.cols));
    // A decoded row; f32 rows are used in place (rwkv.cpp files have no
    // alignment, so an f32 row off a 4-byte boundary is copied).
    auto get_row = [&](int64_t r, float* scratch) -> const float* {
      if (w.dtype == DType::f32 && reinterpret_cast<uintptr_t>(w.row(r)) % alignof(float) == 0)
        return reinterpret_cast<const float*>(w.row(r));
      dequantize_row(w.dtype, w.row(r), scratch, w.cols);
      return scratch;
    };
    int64_t r = r0;
    if (simd && n >= 4) {
      for (; r + 2 <= r1; r += 2) {
        const float* a = get_row(r, buf.data());
        const float* b = get_row(r + 1, buf.data() + w.cols);
        int j = 0;
        for (; j + 4 <= n; j += 4) {
          float out[8];
          dot_2x4_avx2(a, b, x + int64_t(j) * w.cols, w.cols, w.cols, out);
          for (int k = 0; k < 4; ++k) {
            y[int64_t(j + k) * w.rows + r] = out[k];
            y[int64_t(j + k) * w.rows + r + 1] = out[4 + k];
          }
        }
        for (; j < n; ++j) {
          y[int64_t(j) * w.rows + r] = dot(a, x + int64_t(j) * w.cols, w.cols);
          y[int64_t(j) * w.rows + r + 1] = dot(b, x + int64_t(j) * w.cols, w.cols);
        }
      }
    }
    for (; r < r1; ++r) {
      const float* row = get_row(r, buf.data());
      for (int j = 0; j < n; ++j) y[int64_t(j) * w.rows + r] = dot(row, x + int64_t(j) * w.cols, w.cols);
    }
  };
  if (threads == 1) {
    for (int64_t t = 0; t < n_tasks; ++t) task(t);
  } else {
    pool.parallel_for(n_tasks, task);
  }
}

}  // namespace wb::cpu
