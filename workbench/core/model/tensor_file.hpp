// TensorFile: what every model-format parser produces and every architecture
// builder consumes. Parsers (rwkv.cpp .bin, .pth, safetensors, GGUF) only
// validate and index a container; builders (one per RWKV version) only know
// tensor names, shapes and value conventions.
//
//   WB_TRY(tf, wb::read_tensor_file(path));         // picks the parser by magic
//   const wb::TensorView* emb = tf.find("emb.weight");
//
// Names are the official BlinkDL names ("blocks.3.att.key.weight"). Shapes are
// in PyTorch order (outermost first), so a (out, in) matrix has shape {out, in}
// and `in` consecutive elements per row. Quantised blocks run along the
// innermost dimension.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/util/mapped_file.hpp"

#include "core/util/result.hpp"

namespace wb {

enum class DType : uint8_t { f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0 };

const char* dtype_name(DType t);
// Elements per block and bytes per block (1 element for f32/f16/bf16).
int dtype_block_elems(DType t);
int dtype_block_bytes(DType t);
// Bytes needed for n elements, or an error when n is not a whole number of blocks
// or the size overflows.
Result<uint64_t> dtype_bytes_for(DType t, uint64_t n_elems);

// How the stored values relate to BlinkDL's parameters.
enum class ValueConvention : uint8_t {
  official,  // as BlinkDL's trainer saves them (.pth, safetensors)
  rwkv_cpp,  // rwkv.cpp converter: exp/-exp transforms, transposed LoRA, x_rwkvag packing
};

struct TensorView {
  std::string name;
  DType dtype = DType::f32;
  std::vector<int64_t> shape;  // PyTorch order
  const uint8_t* data = nullptr;  // points into the file map or an owned buffer
  uint64_t nbytes = 0;

  uint64_t numel() const;
};

struct TensorFile {
  std::string path;
  std::string format;  // "rwkv.cpp", "pth", "safetensors", "gguf"
  ValueConvention convention = ValueConvention::official;
  std::vector<TensorView> tensors;
  // Format metadata: GGUF key/values rendered as text, rwkv.cpp header fields.
  std::map<std::string, std::string> meta;
  // Keeps data pointers alive (a MappedFile, decompressed buffers, ...).
  std::vector<std::shared_ptr<const void>> owners;
  // The file map the tensors point into, when they do (also in owners): the
  // CPU backend may make it resident (MappedFile::make_resident).
  std::shared_ptr<MappedFile> file_map;

  const TensorView* find(const std::string& name) const;
};

}  // namespace wb
