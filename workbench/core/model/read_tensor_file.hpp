// Opens a model file of any supported container and returns its tensors.
//
//   WB_TRY(tf, wb::read_tensor_file("model.bin"));
//   // tf.format: "rwkv.cpp", "pth", "safetensors", "gguf"
//
// The container is recognised by its first bytes, never by the file name.
#pragma once
#include <string>

#include "core/model/tensor_file.hpp"
#include "core/util/result.hpp"

namespace wb {

Result<TensorFile> read_tensor_file(const std::string& path);

}  // namespace wb
