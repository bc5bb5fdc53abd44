// The matrix layer: block decoders against a plain reading of the ggml block
// layouts (fixtures README §3.3), and matmul against a double-precision sum.
#include <cstring>
#include <random>

#include "core/model/cpu/matmul.hpp"
#include "rwkv_helpers.hpp"

using namespace wb;
using namespace wb::cpu;

namespace {

float h2f(uint16_t h) {  // independent of the library's converter: via ldexp
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const float s = (h & 0x8000) ? -1.0f : 1.0f;
  if (e == 0) return s * std::ldexp(float(m), -24);
  return s * std::ldexp(float(m + 1024), e - 25);
}

// Straightforward per-element decoding, one element at a time.
float ref_element(DType t, const uint8_t* blk, int j) {
  auto u16 = [&](int o) { return uint16_t(blk[o] | (blk[o + 1] << 8)); };
  const float d = h2f(u16(0));
  switch (t) {
    case DType::q8_0: return float(int8_t(blk[2 + j])) * d;
    case DType::q4_0: {
      const uint8_t b = blk[2 + (j % 16)];
      return float((j < 16 ? b & 15 : b >> 4) - 8) * d;
    }
    case DType::q4_1: {
      const uint8_t b = blk[4 + (j % 16)];
      return float(j < 16 ? b & 15 : b >> 4) * d + h2f(u16(2));
    }
    case DType::q5_0:
    case DType::q5_1: {
      const bool m = t == DType::q5_1;
      uint32_t qh;
      std::memcpy(&qh, blk + (m ? 4 : 2), 4);
      const uint8_t b = blk[(m ? 8 : 6) + (j % 16)];
      const int q = (j < 16 ? b & 15 : b >> 4) | int((qh >> j) & 1) << 4;
      return m ? float(q) * d + h2f(u16(2)) : float(q - 16) * d;
    }
    default: return 0;
  }
}

void random_blocks(DType t, std::vector<uint8_t>& buf, size_t blocks, std::mt19937& rng) {
  const int bb = dtype_block_bytes(t);
  buf.resize(blocks * bb);
  for (auto& b : buf) b = uint8_t(rng());
  for (size_t k = 0; k < blocks; ++k) {  // keep the scales finite and moderate
    const uint16_t d = uint16_t(0x2000 + (rng() % 0x1000)) | uint16_t((rng() & 1) << 15);
    std::memcpy(&buf[k * bb], &d, 2);
    if (t == DType::q4_1 || t == DType::q5_1) std::memcpy(&buf[k * bb + 2], &d, 2);
  }
}

}  // namespace

TEST_CASE("block decoders match the ggml layouts", "[rwkv][matmul]") {
  std::mt19937 rng(42);
  for (DType t : {DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1, DType::q8_0}) {
    std::vector<uint8_t> buf;
    random_blocks(t, buf, 8, rng);
    std::vector<float> got(8 * 32);
    dequantize_row(t, buf.data(), got.data(), 8 * 32);
    for (int k = 0; k < 8; ++k)
      for (int j = 0; j < 32; ++j) {
        const float want = ref_element(t, buf.data() + k * dtype_block_bytes(t), j);
        INFO(dtype_name(t) << " block " << k << " element " << j);
        CHECK(got[k * 32 + j] == Approx(want).epsilon(1e-6).margin(1e-7));
      }
  }
  // f16 (normal, subnormal, zero, negative) and bf16.
  const uint16_t halves[] = {0x3c00, 0x0001, 0x03ff, 0x0000, 0xc000, 0x7bff, 0x3555, 0x8400, 0x1234};
  std::vector<float> out(9);
  dequantize_row(DType::f16, reinterpret_cast<const uint8_t*>(halves), out.data(), 9);
  for (int i = 0; i < 9; ++i) CHECK(out[i] == h2f(halves[i]));
  const uint16_t bf[] = {0x3f80, 0xc040};
  dequantize_row(DType::bf16, reinterpret_cast<const uint8_t*>(bf), out.data(), 2);
  CHECK(out[0] == 1.0f);
  CHECK(out[1] == -3.0f);
}

TEST_CASE("matmul equals a double-precision product for every dtype and batch size", "[rwkv][matmul]") {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  ThreadPool pool(4);
  const int64_t rows = 70, cols = 96;
  for (DType t : {DType::f32, DType::f16, DType::bf16, DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1, DType::q8_0}) {
    std::vector<uint8_t> buf;
    if (dtype_block_elems(t) == 32) {
      random_blocks(t, buf, size_t(rows * cols / 32), rng);
    } else {
      buf.resize(size_t(rows * cols) * dtype_block_bytes(t) + 1);  // +1: test an unaligned start for f32
      for (auto& b : buf) b = uint8_t(rng());
      for (int64_t i = 0; i < rows * cols; ++i) {
        const float v = nd(rng);
        if (t == DType::f32) std::memcpy(&buf[1 + 4 * i], &v, 4);
        else if (t == DType::bf16) { uint32_t u; std::memcpy(&u, &v, 4); uint16_t h = uint16_t(u >> 16); std::memcpy(&buf[2 * i], &h, 2); }
        else { uint16_t h = uint16_t(0x3000 + (rng() % 0x0c00)) | uint16_t((rng() & 1) << 15); std::memcpy(&buf[2 * i], &h, 2); }
      }
    }
    Mat w;
    w.dtype = t;
    w.rows = rows;
    w.cols = cols;
    w.data = buf.data() + (t == DType::f32 ? 1 : 0);
    w.row_bytes = uint64_t(cols / dtype_block_elems(t)) * dtype_block_bytes(t);
    std::vector<float> dense(size_t(rows * cols));
    for (int64_t r = 0; r < rows; ++r) dequantize_row(t, w.row(r), dense.data() + r * cols, cols);
    for (int n : {1, 3, 33}) {
      std::vector<float> x(size_t(n * cols)), y(size_t(n * rows));
      for (float& v : x) v = nd(rng);
      matmul(w, x.data(), n, y.data(), pool);
      double worst = 0;
      for (int j = 0; j < n; ++j)
        for (int64_t r = 0; r < rows; ++r) {
          double s = 0, mag = 0;
          for (int64_t c = 0; c < cols; ++c) {
            s += double(dense[r * cols + c]) * x[j * cols + c];
            mag += std::fabs(double(dense[r * cols + c]) * x[j * cols + c]);
          }
          worst = std::max(worst, std::fabs(y[j * rows + r] - s) / (mag + 1e-30));
        }
      INFO(dtype_name(t) << " n=" << n);
      CHECK(worst < 1e-5);
    }
  }
}
