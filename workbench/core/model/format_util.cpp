#include "core/model/format_util.hpp"

#include <memory>

namespace wb::fmt_util {

namespace {
uint16_t rd16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
uint32_t rd32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
}  // namespace

void dequantize_row(DType t, const uint8_t* src, float* dst, uint64_t n) {
  switch (t) {
    case DType::f32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::f16:
      for (uint64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(rd16(src + 2 * i));
      return;
    case DType::bf16:
      for (uint64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(rd16(src + 2 * i));
      return;
    default: break;
  }
  const uint64_t blocks = n / 32;
  const int bb = dtype_block_bytes(t);
  for (uint64_t b = 0; b < blocks; ++b) {
    const uint8_t* p = src + b * static_cast<uint64_t>(bb);
    float* y = dst + b * 32;
    const float d = f16_to_f32(rd16(p));
    switch (t) {
      case DType::q8_0:
        for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(static_cast<int8_t>(p[2 + j])) * d;
        break;
      case DType::q4_0:
        for (int j = 0; j < 16; ++j) {
          y[j] = static_cast<float>((p[2 + j] & 0x0f) - 8) * d;
          y[j + 16] = static_cast<float>((p[2 + j] >> 4) - 8) * d;
        }
        break;
      case DType::q4_1: {
        const float m = f16_to_f32(rd16(p + 2));
        for (int j = 0; j < 16; ++j) {
          y[j] = static_cast<float>(p[4 + j] & 0x0f) * d + m;
          y[j + 16] = static_cast<float>(p[4 + j] >> 4) * d + m;
        }
        break;
      }
      case DType::q5_0: {
        const uint32_t qh = rd32(p + 2);
        for (int j = 0; j < 16; ++j) {
          const int lo = (p[6 + j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
          const int hi = (p[6 + j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
          y[j] = static_cast<float>(lo - 16) * d;
          y[j + 16] = static_cast<float>(hi - 16) * d;
        }
        break;
      }
      case DType::q5_1: {
        const float m = f16_to_f32(rd16(p + 2));
        const uint32_t qh = rd32(p + 4);
        for (int j = 0; j < 16; ++j) {
          const int lo = (p[8 + j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
          const int hi = (p[8 + j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
          y[j] = static_cast<float>(lo) * d + m;
          y[j + 16] = static_cast<float>(hi) * d + m;
        }
        break;
      }
      default: break;
    }
  }
}

Status transpose_owned(TensorFile& tf, TensorView& view, int64_t batch, int64_t rows, int64_t cols) {
  const uint64_t n = static_cast<uint64_t>(batch) * static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
  if (n != view.numel())
    return make_error(Errc::format, "tensor '{}': {}x{}x{} does not match its {} elements", view.name, batch, rows,
                      cols, view.numel());
  // Only LoRA-sized matrices are rewritten; a big one means a layout we do not expect.
  if (n > (uint64_t{1} << 24))
    return make_error(Errc::unsupported, "tensor '{}' ({} elements) would need a transposed copy; too large",
                      view.name, n);
  const bool plain = view.dtype == DType::f32 || view.dtype == DType::f16 || view.dtype == DType::bf16;
  const size_t esize = plain ? static_cast<size_t>(dtype_block_bytes(view.dtype)) : 4;
  auto buf = std::make_shared<std::vector<uint8_t>>(n * esize);
  const uint8_t* src = view.data;
  std::vector<float> deq;
  if (!plain) {
    deq.resize(n);
    dequantize_row(view.dtype, view.data, deq.data(), n);
    src = reinterpret_cast<const uint8_t*>(deq.data());
  }
  uint8_t* dst = buf->data();
  const size_t R = static_cast<size_t>(rows), Cc = static_cast<size_t>(cols), slab = R * Cc;
  for (size_t b = 0; b < static_cast<size_t>(batch); ++b)
    for (size_t r = 0; r < R; ++r)
      for (size_t c = 0; c < Cc; ++c)
        std::memcpy(dst + (b * slab + c * R + r) * esize, src + (b * slab + r * Cc + c) * esize, esize);
  view.data = buf->data();
  view.nbytes = buf->size();
  if (!plain) view.dtype = DType::f32;
  if (batch == 1)
    view.shape = {cols, rows};
  else
    view.shape = {batch, cols, rows};
  tf.owners.push_back(buf);
  return {};
}

}  // namespace wb::fmt_util
