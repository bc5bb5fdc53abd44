// safetensors reader: an 8-byte little-endian header length, a JSON header
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
// "__metadata__": {...}}, then the raw tensor bytes. Tensors stay memory-mapped.
// Names are kept as written (files converted for web-rwkv / Ai00 carry
// BlinkDL's official names), so the result's convention is `official`.
//
//   WB_TRY(tf, wb::read_safetensors_file("model.safetensors"));
//   const wb::TensorView* emb = tf.find("emb.weight");
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/model/tensor_file.hpp"

namespace wb {

// Maps and parses a file. Errors name the file and the fault.
Result<TensorFile> read_safetensors_file(const std::string& path);

// Parses bytes already in memory; `owner` keeps them alive (may be null when
// the caller guarantees their lifetime). `path` is used in messages only.
Result<TensorFile> parse_safetensors(std::span<const uint8_t> bytes, const std::string& path,
                                     std::shared_ptr<const void> owner);

// True when the bytes start like a safetensors file (u64 length then '{').
bool looks_like_safetensors(std::span<const uint8_t> head);

}  // namespace wb
