// PyTorch `.pth` reader (torch.save's zip layout): `<archive>/data.pkl` holds a
// pickled state dict whose tensors point at raw storages `<archive>/data/<key>`.
// The zip directory is parsed here (zip64 included); stored entries are used
// in place from the file map (torch writes them uncompressed and 64-byte
// aligned), deflated entries are inflated into owned buffers. The pickle is
// read by the restricted reader in pickle_reader.hpp, which refuses any GLOBAL
// outside a state dict's allow-list with Errc::security and executes nothing.
// Tensors: f32 / f16 / bf16, contiguous only; names and values as saved
// (BlinkDL's official convention).
//
//   WB_TRY(tf, wb::read_pth_file("RWKV-x070-World-0.1B.pth"));
//   const wb::TensorView* w = tf.find("blocks.0.att.key.weight");
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/model/tensor_file.hpp"

namespace wb {

Result<TensorFile> read_pth_file(const std::string& path);
Result<TensorFile> parse_pth(std::span<const uint8_t> bytes, const std::string& path, std::shared_ptr<const void> owner);

// True when the bytes start like a zip archive ("PK\3\4").
bool looks_like_pth(std::span<const uint8_t> head);

}  // namespace wb
