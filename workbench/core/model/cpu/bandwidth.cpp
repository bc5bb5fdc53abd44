#include "core/model/cpu/bandwidth.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <new>
#include <vector>

#include "core/model/cpu/matmul.hpp"

namespace wb::cpu {
namespace {

// Four independent accumulators keep several loads in flight per thread.
__attribute__((target("avx2"))) float sum_avx2(const float* p, std::size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
  }
  alignas(32) float t[8];
  _mm256_store_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  float s = 0;
  for (float v : t) s += v;
  for (; i < n; ++i) s += p[i];
  return s;
}

float sum_scalar(const float* p, std::size_t n) {
  float s[4] = {};
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k) s[k] += p[i + k];
  for (; i < n; ++i) s[0] += p[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

}  // namespace

Result<double> measure_read_bandwidth(int threads, std::size_t bytes, int passes) {
  if (bytes < (std::size_t(1) << 20) || bytes > (std::size_t(16) << 30))
    return make_error(Errc::invalid_argument, "read bandwidth: buffer of {} bytes outside 1 MiB .. 16 GiB", bytes);
  const std::size_t n = bytes / sizeof(float) / 64 * 64;
  std::unique_ptr<float[], void (*)(float*)> buf(
      static_cast<float*>(::operator new[](n * sizeof(float), std::align_val_t(64), std::nothrow)),
      [](float* p) { ::operator delete[](p, std::align_val_t(64)); });
  if (!buf) return make_error(Errc::io, "read bandwidth: cannot allocate {} bytes", n * sizeof(float));
  std::fill(buf.get(), buf.get() + n, 1.0f);  // touch every page before timing
  ThreadPool pool(threads);
  const int64_t parts = pool.size();
  const std::size_t per = (n / parts + 63) / 64 * 64;
  const bool avx2 = simd_level() != SimdLevel::scalar;
  std::atomic<float> sink{0};
  double best = 0;
  for (int p = 0; p < std::max(1, passes); ++p) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(parts, [&](int64_t t) {
      const std::size_t b = std::min(n, per * t), e = std::min(n, b + per);
      const float s = avx2 ? sum_avx2(buf.get() + b, e - b) : sum_scalar(buf.get() + b, e - b);
      sink.fetch_add(s, std::memory_order_relaxed);
    });
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, double(n * sizeof(float)) / dt / 1e9);
  }
  if (!(sink.load() > 0)) return make_error(Errc::internal, "read bandwidth: the sum came out wrong");
  return best;
}

}  // namespace wb::cpu
