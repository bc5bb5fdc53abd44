// The matrix kernels one by one against a plain reference: every weight type
// the fused paths take (f32, f16, q8_0, q4_0), at every SIMD level the CPU
// has, over shapes that hit each path (mat-vec and row tiles for few columns,
// the register-tiled GEMM from 16 columns, more columns than one GEMM pass,
// rows not a multiple of the row block, columns past a 512-wide slice and
// f16/f32 column tails), and the RWKV-7 WKV step against its scalar form.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/model/cpu/matmul.hpp"

using namespace wb;
using namespace wb::cpu;

namespace {

struct LevelGuard {
  ~LevelGuard() { limit_simd_level(SimdLevel::avx512); }
};

// Random raw rows of type t: valid finite f16 values and quant scales, any quants.
std::vector<uint8_t> random_rows(DType t, int64_t rows, int64_t cols, std::mt19937& g, uint64_t& row_bytes) {
  auto half = [&](int e_lo, int e_hi) {  // sign, exponent in [e_lo, e_hi], any mantissa
    const uint32_t e = e_lo + g() % uint32_t(e_hi - e_lo + 1);
    return uint16_t((g() & 0x8000u) | (e << 10) | (g() & 0x3ffu));
  };
  std::vector<uint8_t> d;
  if (t == DType::f32) {
    row_bytes = cols * 4;
    d.resize(rows * row_bytes);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int64_t i = 0; i < rows * cols; ++i) {
      const float f = u(g);
      std::memcpy(d.data() + 4 * i, &f, 4);
    }
  } else if (t == DType::f16) {
    row_bytes = cols * 2;
    d.resize(rows * row_bytes);
    for (int64_t i = 0; i < rows * cols; ++i) {
      const uint16_t h = half(8, 15);  // |w| in [2^-7, 2)
      std::memcpy(d.data() + 2 * i, &h, 2);
    }
  } else {
    const int bb = t == DType::q8_0 ? 34 : 18;
    row_bytes = cols / 32 * bb;
    d.resize(rows * row_bytes);
    for (auto& b : d) b = uint8_t(g());
    for (int64_t blk = 0; blk < rows * (cols / 32); ++blk) {
      const uint16_t s = half(9, 12);  // scale in [2^-6, 2^-2)
      std::memcpy(d.data() + blk * bb, &s, 2);
    }
  }
  return d;
}

}  // namespace

TEST_CASE("matmul kernels match a double-precision reference for every fused dtype, level and shape",
          "[speed][kernels]") {
  LevelGuard guard;
  std::mt19937 g(11);
  struct Shape { int64_t rows, cols; };
  const std::vector<int> columns = {1, 3, 4, 5, 16, 17, 40, 300};  // 300 > three GEMM passes (96 each)
  for (DType t : {DType::f32, DType::f16, DType::q8_0, DType::q4_0}) {
    const bool quant = t == DType::q8_0 || t == DType::q4_0;
    const std::vector<Shape> shapes = quant ? std::vector<Shape>{{1, 32}, {13, 544}, {50, 1056}}
                                            : std::vector<Shape>{{1, 7}, {13, 37}, {50, 544}, {25, 1063}};
    for (Shape sh : shapes) {
      uint64_t rb = 0;
      const std::vector<uint8_t> raw = random_rows(t, sh.rows, sh.cols, g, rb);
      const Mat w{t, sh.rows, sh.cols, raw.data(), rb};
      // Reference weights decoded by the scalar path, dots in double.
      limit_simd_level(SimdLevel::scalar);
      std::vector<float> wf(sh.rows * sh.cols);
      for (int64_t r = 0; r < sh.rows; ++r) dequantize_row(t, w.row(r), wf.data() + r * sh.cols, sh.cols);
      for (int n : columns) {
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        std::vector<float> x(size_t(n) * sh.cols);
        for (float& v : x) v = u(g);
        std::vector<double> ref(size_t(n) * sh.rows), mag(size_t(n) * sh.rows);
        for (int j = 0; j < n; ++j)
          for (int64_t r = 0; r < sh.rows; ++r) {
            double s = 0, a = 0;
            for (int64_t k = 0; k < sh.cols; ++k) {
              s += double(wf[r * sh.cols + k]) * x[j * sh.cols + k];
              a += std::fabs(double(wf[r * sh.cols + k]) * x[j * sh.cols + k]);
            }
            ref[j * sh.rows + r] = s;
            mag[j * sh.rows + r] = a;
          }
        for (SimdLevel l : {SimdLevel::scalar, SimdLevel::avx2, SimdLevel::avx512}) {
          limit_simd_level(l);
          if (simd_level() != l) continue;  // the CPU lacks it
          for (int threads : {1, 2}) {
            ThreadPool pool(threads);
            std::vector<float> y(size_t(n) * sh.rows, std::nanf(""));
            matmul(w, x.data(), n, y.data(), pool);
            double worst = 0;
            for (size_t i = 0; i < y.size(); ++i) {
              REQUIRE(std::isfinite(y[i]));
              worst = std::max(worst, std::fabs(y[i] - ref[i]) / (mag[i] + 1e-30));
            }
            INFO(dtype_name(t) << " " << sh.rows << "x" << sh.cols << " n=" << n << " level " << simd_level_name(l)
                               << " threads " << threads);
            CHECK(worst < 2e-6 * std::sqrt(double(sh.cols)) + 1e-6);  // f32 summation error only
          }
        }
      }
    }
  }
}

TEST_CASE("a group of products gives exactly what each product gives alone", "[speed][kernels]") {
  LevelGuard guard;
  std::mt19937 g(5);
  struct Spec { DType t; int64_t rows, cols; };
  // A LoRA-like mix: big and small, several dtypes, rows not a multiple of any tile.
  const std::vector<Spec> specs = {{DType::f16, 301, 256}, {DType::f32, 37, 256}, {DType::q8_0, 129, 256},
                                   {DType::f32, 256, 32}};
  std::vector<std::vector<uint8_t>> raw(specs.size());
  std::vector<Mat> mats(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    uint64_t rb = 0;
    raw[i] = random_rows(specs[i].t, specs[i].rows, specs[i].cols, g, rb);
    mats[i] = Mat{specs[i].t, specs[i].rows, specs[i].cols, raw[i].data(), rb};
  }
  for (SimdLevel l : {SimdLevel::scalar, SimdLevel::avx2, SimdLevel::avx512}) {
    limit_simd_level(l);
    if (simd_level() != l) continue;
    for (int n : {1, 3, 17, 130}) {
      for (int threads : {1, 2}) {
        INFO("level " << simd_level_name(l) << " n=" << n << " threads " << threads);
        ThreadPool pool(threads);
        std::vector<std::vector<float>> x(specs.size()), alone(specs.size()), grouped(specs.size());
        std::vector<MatJob> jobs;
        for (size_t i = 0; i < specs.size(); ++i) {
          std::uniform_real_distribution<float> u(-1.0f, 1.0f);
          x[i].resize(size_t(n) * specs[i].cols);
          for (float& v : x[i]) v = u(g);
          alone[i].assign(size_t(n) * specs[i].rows, 0.0f);
          grouped[i].assign(size_t(n) * specs[i].rows, std::nanf(""));
          matmul(mats[i], x[i].data(), n, alone[i].data(), pool);
          jobs.push_back({&mats[i], x[i].data(), grouped[i].data()});
        }
        matmul_group(jobs.data(), int(jobs.size()), n, pool);
        for (size_t i = 0; i < specs.size(); ++i) CHECK(grouped[i] == alone[i]);
      }
    }
  }
}

TEST_CASE("the SIMD WKV-7 step matches the scalar step over many steps", "[speed][kernels]") {
  LevelGuard guard;
  const int N = 64;
  std::mt19937 g(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), pos(0.5f, 1.0f);
  std::vector<float> s0(N * N);
  for (float& v : s0) v = u(g);
  for (SimdLevel l : {SimdLevel::avx2, SimdLevel::avx512}) {
    limit_simd_level(l);
    if (simd_level() != l) continue;
    std::vector<float> sa = s0, sb = s0, ya(N), yb(N);
    double worst = 0;
    for (int step = 0; step < 20; ++step) {
      std::vector<float> r(N), w(N), k(N), v(N), kk(N), kka(N);
      for (int i = 0; i < N; ++i) r[i] = u(g), w[i] = pos(g), k[i] = u(g), v[i] = u(g), kk[i] = u(g) / 8, kka[i] = u(g) / 8;
      limit_simd_level(SimdLevel::scalar);
      wkv7_step(sa.data(), N, r.data(), w.data(), k.data(), v.data(), kk.data(), kka.data(), ya.data());
      limit_simd_level(l);
      wkv7_step(sb.data(), N, r.data(), w.data(), k.data(), v.data(), kk.data(), kka.data(), yb.data());
      for (int i = 0; i < N; ++i) worst = std::max(worst, double(std::fabs(ya[i] - yb[i])) / (1.0 + std::fabs(ya[i])));
    }
    for (int i = 0; i < N * N; ++i) worst = std::max(worst, double(std::fabs(sa[i] - sb[i])) / (1.0 + std::fabs(sa[i])));
    INFO("level " << simd_level_name(l));
    CHECK(worst < 1e-4);
    CHECK(sa != s0);  // the state really moved
  }
}

TEST_CASE("relu squared matches its definition at every level", "[speed][kernels]") {
  LevelGuard guard;
  for (SimdLevel l : {SimdLevel::scalar, SimdLevel::avx2, SimdLevel::avx512}) {
    limit_simd_level(l);
    if (simd_level() != l) continue;
    INFO("level " << simd_level_name(l));
    std::vector<float> x;
    for (int i = -50; i <= 50; ++i) x.push_back(float(i) * 0.37f);  // 101 values: a tail at every width
    x.push_back(-0.0f);
    std::vector<float> y = x;
    relu_square_inplace(y.data(), int64_t(y.size()));
    for (size_t i = 0; i < x.size(); ++i) CHECK(y[i] == (x[i] > 0 ? x[i] * x[i] : 0.0f));
  }
}

TEST_CASE("vector exp and sigmoid match libm", "[speed][kernels]") {
  LevelGuard guard;
  std::vector<float> xs;
  for (int i = -8000; i <= 8000; ++i) xs.push_back(float(i) * 0.0107f);  // -85.6 .. 85.6, odd steps
  for (float v : {0.0f, -0.0f, 1e-8f, -1e-8f, 87.0f, -87.0f}) xs.push_back(v);
  for (SimdLevel l : {SimdLevel::scalar, SimdLevel::avx2, SimdLevel::avx512}) {
    limit_simd_level(l);
    if (simd_level() != l) continue;
    INFO("level " << simd_level_name(l));
    for (size_t len : {xs.size(), size_t(5), size_t(17)}) {  // tails shorter than a vector too
      std::vector<float> e(xs.begin(), xs.begin() + len), s = e;
      exp_inplace(e.data(), int64_t(len));
      sigmoid_inplace(s.data(), int64_t(len));
      double worst_e = 0, worst_s = 0;
      for (size_t i = 0; i < len; ++i) {
        const double re = std::exp(double(xs[i])), rs = 1.0 / (1.0 + std::exp(-double(xs[i])));
        worst_e = std::max(worst_e, std::fabs(e[i] - re) / re);
        worst_s = std::max(worst_s, std::fabs(s[i] - rs) / std::max(rs, 1e-30));
      }
      CHECK(worst_e < 4e-7);  // a few ulp
      CHECK(worst_s < 4e-7);
    }
  }
  // Far outside the range the inputs are clamped, never inf or NaN.
  float big[2] = {1000.0f, -1000.0f};
  exp_inplace(big, 2);
  CHECK(std::isfinite(big[0]));
  CHECK(big[1] >= 0.0f);
}
