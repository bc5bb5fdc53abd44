// GGUF reader (v2 and v3): header, key/value metadata, tensor infos, aligned
// data section. Tensors stay memory-mapped and quantised blocks stay quantised.
//
// For llama.cpp's `rwkv6` and `rwkv7` architectures the tensors are mapped back
// to BlinkDL's official names, shapes and values (see gguf_file.cpp for the
// table): fused token-shift lerps are split into views, squeezed vectors get
// their (1,1,C) shape back, and the small LoRA matrices the converter stores
// transposed are transposed back into owned buffers (quantised ones are
// dequantised to f32 there). RWKV-6's `rescale_every_n_layers` cannot be undone
// without rewriting weights, so it is reported in meta["rescale_every_n_layers"]
// and the v6 builder honours it. Other architectures keep their GGUF names.
//
//   WB_TRY(tf, wb::read_gguf_file("rwkv7.gguf"));          // TensorFile
//   WB_TRY(g, wb::read_gguf("rwkv7.gguf"));                // + typed metadata
//   const wb::GgufValue* toks = g.find("tokenizer.ggml.tokens");
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/model/tensor_file.hpp"

namespace wb {

// One metadata value. Scalars fill `i` (signed), `u` (unsigned), `f` or `s`;
// arrays fill `strs` (string arrays) or `nums` (numeric and bool arrays).
struct GgufValue {
  uint32_t type = 0;        // GGUF value type id (8 = string, 9 = array, ...)
  uint32_t array_type = 0;  // element type for arrays
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
  std::string s;
  std::vector<std::string> strs;
  std::vector<double> nums;

  bool is_array() const { return type == 9; }
  // Scalars as text; arrays as "[N x type]" (or in full when short).
  std::string to_text() const;
};

struct GgufFile {
  uint32_t version = 0;
  std::map<std::string, GgufValue> kv;
  TensorFile tensors;

  const GgufValue* find(const std::string& key) const;
};

// Parses bytes in memory (`owner` keeps them alive; `path` is for messages).
// With map_rwkv, rwkv6/rwkv7 tensors are mapped to official names.
Result<GgufFile> parse_gguf(std::span<const uint8_t> bytes, const std::string& path,
                            std::shared_ptr<const void> owner, bool map_rwkv = true);
Result<GgufFile> read_gguf(const std::string& path, bool map_rwkv = true);
Result<TensorFile> read_gguf_file(const std::string& path);

bool looks_like_gguf(std::span<const uint8_t> head);

}  // namespace wb
