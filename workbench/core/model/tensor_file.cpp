#include "core/model/tensor_file.hpp"

namespace wb {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
    case DType::q4_0: return "q4_0";
    case DType::q4_1: return "q4_1";
    case DType::q5_0: return "q5_0";
    case DType::q5_1: return "q5_1";
    case DType::q8_0: return "q8_0";
  }
  return "?";
}

int dtype_block_elems(DType t) {
  switch (t) {
    case DType::f32:
    case DType::f16:
    case DType::bf16: return 1;
    default: return 32;
  }
}

int dtype_block_bytes(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f16: return 2;
    case DType::bf16: return 2;
    case DType::q4_0: return 18;
    case DType::q4_1: return 20;
    case DType::q5_0: return 22;
    case DType::q5_1: return 24;
    case DType::q8_0: return 34;
  }
  return 0;
}

Result<uint64_t> dtype_bytes_for(DType t, uint64_t n) {
  const uint64_t be = static_cast<uint64_t>(dtype_block_elems(t));
  const uint64_t bb = static_cast<uint64_t>(dtype_block_bytes(t));
  if (n % be != 0)
    return make_error(Errc::format, "{} tensor of {} elements is not a whole number of {}-element blocks",
                      dtype_name(t), n, be);
  const uint64_t blocks = n / be;
  if (blocks > (UINT64_MAX / bb)) return make_error(Errc::limit, "tensor size overflows");
  return blocks * bb;
}

uint64_t TensorView::numel() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

const TensorView* TensorFile::find(const std::string& name) const {
  for (const TensorView& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace wb
