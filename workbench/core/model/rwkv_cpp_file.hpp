// Parser for rwkv.cpp `.bin` model files (fixtures README §3): a 24-byte
// header followed by tensor records up to end of file.
//
//   WB_TRY(tf, wb::read_rwkv_cpp_file("tiny-rwkv-7v0-834K-FP32.bin"));
//   const wb::TensorView* emb = tf.find("emb.weight");   // shape {n_vocab, n_embd}
//
// The result uses ValueConvention::rwkv_cpp (the converter's value transforms
// are left in place for the builders to account for), names as in the file,
// shapes reversed into PyTorch order and data pointers into the memory map.
// Every size is validated before use; a bad file gives an error naming the
// file, the tensor and the fault.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "core/model/tensor_file.hpp"
#include "core/util/result.hpp"

namespace wb {

// Maps the file and parses it; the TensorFile keeps the map alive.
Result<TensorFile> read_rwkv_cpp_file(const std::string& path);

// Parses bytes already in memory (used by read_rwkv_cpp_file and the fuzz
// target). `path` only names the source in messages. The caller keeps `bytes`
// alive as long as the result is used.
Result<TensorFile> parse_rwkv_cpp_bytes(std::span<const uint8_t> bytes, const std::string& path);

// The rwkv.cpp magic as its first four bytes on disk ("fmgg").
inline constexpr uint32_t kRwkvCppMagic = 0x67676d66u;

}  // namespace wb
