#include "core/model/cpu/matmul.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace wb::cpu {

// ---------------------------------------------------------------- thread pool

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::drain() {
  for (;;) {
    const int64_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= job_n_) return;
    (*job_)(i);
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    wake_.wait(lk, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    lk.unlock();
    drain();
    lk.lock();
    // Every worker reports once per generation, so a new job is never posted
    // while a slow worker still runs the previous one.
    if (--active_ == 0) done_.notify_one();
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  if (workers_.empty() || n == 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    job_ = &fn;
    job_n_ = n;
    next_.store(0, std::memory_order_relaxed);
    active_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  drain();
  std::unique_lock<std::mutex> lk(mu_);
  done_.wait(lk, [&] { return active_ == 0; });
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

bool have_avx2_fma_f16c() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                         __builtin_cpu_supports("f16c");
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
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  s0 = _mm256_add_ps(s0, s1);
  __m128 lo = _mm256_castps256_ps128(s0), hi = _mm256_extractf128_ps(s0, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_hadd_ps(lo, lo);
  lo = _mm_hadd_ps(lo, lo);
  float s = _mm_cvtss_f32(lo);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
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
      if (have_avx2_fma_f16c()) return f16_row_avx2(src, dst, n);
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
  return have_avx2_fma_f16c() ? dot_avx2(a, b, n) : dot_scalar(a, b, n);
}

void matmul(const Mat& w, const float* x, int n, float* y, ThreadPool& pool) {
  // Split rows into tasks big enough to amortise the dispatch, small enough to
  // balance the threads.
  const int64_t work = w.rows * w.cols * std::max(1, n);
  const int threads = work < (int64_t(1) << 15) ? 1 : pool.size();
  const int64_t n_tasks = std::min<int64_t>(w.rows, int64_t(threads) * 4);
  const int64_t per = (w.rows + n_tasks - 1) / n_tasks;
  auto task = [&](int64_t t) {
    const int64_t r0 = t * per, r1 = std::min(w.rows, r0 + per);
    std::vector<float> buf(w.dtype == DType::f32 ? 0 : static_cast<size_t>(w.cols));
    for (int64_t r = r0; r < r1; ++r) {
      const float* row;
      if (w.dtype == DType::f32) {
        row = reinterpret_cast<const float*>(w.row(r));
      } else {
        dequantize_row(w.dtype, w.row(r), buf.data(), w.cols);
        row = buf.data();
      }
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
