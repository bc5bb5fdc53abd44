// Internal helpers shared by the container parsers (.pth, safetensors, GGUF):
// a bounds-checked little-endian reader, checked size arithmetic, half-float
// conversion and shape validation. Not a public interface.
//
//   ByteReader r(bytes);
//   WB_TRY(n, r.u64("tensor count"));   // error names the field on truncation
#pragma once
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/tensor_file.hpp"
#include "core/util/result.hpp"

namespace wb::fmt_util {

// The most elements one tensor may claim. Far above any real RWKV tensor
// (a 14B model's embedding is ~4e8), far below what would overflow or make a
// bogus header allocate: a claim of 1e12 elements is refused before any use.
inline constexpr uint64_t kMaxTensorElems = uint64_t{1} << 36;

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> b) : b_(b) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return b_.size() - pos_; }
  void seek(size_t p) { pos_ = p; }

  Result<std::span<const uint8_t>> bytes(uint64_t n, const char* what) {
    if (n > remaining())
      return make_error(Errc::format, "truncated: {} needs {} bytes at offset {}, only {} left", what, n, pos_,
                        remaining());
    auto s = b_.subspan(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  template <class T>
  Result<T> scalar(const char* what) {
    WB_TRY(s, bytes(sizeof(T), what));
    T v;
    std::memcpy(&v, s.data(), sizeof(T));  // files are little-endian, so is every supported host
    return v;
  }
  Result<uint8_t> u8(const char* w) { return scalar<uint8_t>(w); }
  Result<uint16_t> u16(const char* w) { return scalar<uint16_t>(w); }
  Result<uint32_t> u32(const char* w) { return scalar<uint32_t>(w); }
  Result<uint64_t> u64(const char* w) { return scalar<uint64_t>(w); }
  Result<int32_t> i32(const char* w) { return scalar<int32_t>(w); }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
};

// Product of dims with overflow and absurd-size checks; negative dims refused.
inline Result<uint64_t> checked_numel(std::span<const int64_t> shape, const std::string& tname) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return make_error(Errc::format, "tensor '{}' has a negative dimension {}", tname, d);
    if (d != 0 && n > kMaxTensorElems / static_cast<uint64_t>(d))
      return make_error(Errc::limit, "tensor '{}' claims more than {} elements", tname, kMaxTensorElems);
    n *= static_cast<uint64_t>(d);
  }
  if (n > kMaxTensorElems)
    return make_error(Errc::limit, "tensor '{}' claims {} elements (limit {})", tname, n, kMaxTensorElems);
  return n;
}

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((man & 0x400u) == 0) {
        man <<= 1;
        --exp;
      }
      man &= 0x3ffu;
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

inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline bool valid_utf8(std::string_view s) {
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    unsigned c = p[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((p[i + k] & 0xc0) != 0x80) return false;
    if (n == 2 && c < 0xc2) return false;
    if (n == 3) {
      unsigned c1 = p[i + 1];
      if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0)) return false;
    }
    if (n == 4) {
      unsigned c1 = p[i + 1];
      if ((c == 0xf0 && c1 < 0x90) || c > 0xf4 || (c == 0xf4 && c1 >= 0x90)) return false;
    }
    i += n;
  }
  return true;
}

// Dequantises n elements (a whole number of blocks) of any supported dtype to f32.
void dequantize_row(DType t, const uint8_t* src, float* dst, uint64_t n);

// Copies a (batch, rows, cols) tensor with its last two axes swapped into a
// new owned f32/f16/bf16 buffer (quantised input is dequantised to f32 first).
// Used only for the small LoRA matrices GGUF stores transposed; the buffer is
// registered in tf.owners and `view` is rewritten in place with shape
// (cols, rows) when batch == 1, else (batch, cols, rows).
Status transpose_owned(TensorFile& tf, TensorView& view, int64_t batch, int64_t rows, int64_t cols);

}  // namespace wb::fmt_util
