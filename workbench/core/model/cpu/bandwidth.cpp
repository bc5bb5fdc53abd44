#include "core/model/cpu/bandwidth.hpp"

#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

#include "core/model/cpu/matmul.hpp"
#include "core/model/cpu/simd_kernels.hpp"

namespace wb::cpu {
namespace {

// Four independent accumulators keep several loads in flight per thread.
// With `prefetch`, each 128-byte step also asks for the lines
// simd::kDecodePrefetchBytes ahead (the decode kernel's distance): on this kind of VM that reads ~5-10%
// faster than the hardware prefetcher alone, so passes try both.
__attribute__((target("avx2"))) float sum_avx2(const float* p, std::size_t n, bool prefetch) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    if (prefetch) {
      const char* ahead = reinterpret_cast<const char*>(p + i) + simd::kDecodePrefetchBytes;
      _mm_prefetch(ahead, _MM_HINT_T0);
      _mm_prefetch(ahead + 64, _MM_HINT_T0);
    }
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
  // 2 MiB-aligned and advised for transparent huge pages: the best this
  // machine's memory can do, which is also how resident weights are held
  // (MappedFile::make_resident), so the bound is never a handicapped one.
  constexpr std::size_t kHuge = std::size_t(2) << 20;
  const std::size_t n = (bytes + kHuge - 1) / kHuge * kHuge / sizeof(float);
  const std::size_t len = n * sizeof(float) + kHuge;
  void* raw = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return make_error(Errc::io, "read bandwidth: cannot allocate {} bytes", len);
  struct Unmap {
    void* p;
    std::size_t len;
    ~Unmap() { ::munmap(p, len); }
  } unmap{raw, len};
  const uintptr_t a = reinterpret_cast<uintptr_t>(raw);
  float* const data = reinterpret_cast<float*>((a + kHuge - 1) / kHuge * kHuge);
  ::madvise(data, n * sizeof(float), MADV_HUGEPAGE);
  std::fill(data, data + n, 1.0f);  // touch every page before timing
  ThreadPool pool(threads);
  const int64_t parts = pool.size();
  const std::size_t per = (n / parts + 63) / 64 * 64;
  const bool avx2 = simd_level() != SimdLevel::scalar;
  std::atomic<float> sink{0};
  double best = 0;
  for (int p = 0; p < 2 * std::max(1, passes); ++p) {  // plain and prefetching passes, alternated
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(parts, [&](int64_t t) {
      const std::size_t b = std::min(n, per * t), e = std::min(n, b + per);
      const float s = avx2 ? sum_avx2(data + b, e - b, p % 2 == 1) : sum_scalar(data + b, e - b);
      sink.fetch_add(s, std::memory_order_relaxed);
    });
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, double(n * sizeof(float)) / dt / 1e9);
  }
  if (!(sink.load() > 0)) return make_error(Errc::internal, "read bandwidth: the sum came out wrong");
  return best;
}

}  // namespace wb::cpu
