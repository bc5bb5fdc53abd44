// Opening a model file as a runnable Model.
//
//   wb::LoadOptions opt;                 // backend "cpu", all cores
//   WB_TRY(model, wb::load_model("tiny-rwkv-7v0-834K-FP32.bin", opt));
//   wb::State s = model->new_state();
//   std::vector<float> logits(model->info().n_vocab);
//   WB_CHECK(model->prefill(tokens, s, logits));
//
// The container is recognised by its magic (read_tensor_file), the
// architecture by tensor names and shapes (fixtures README §3.4).
#pragma once
#include <memory>
#include <string>

#include "core/model/model.hpp"
#include "core/model/tensor_file.hpp"
#include "core/util/result.hpp"

namespace wb {

class Log;

struct LoadOptions {
  // "cpu", "vulkan", or "auto" (vulkan when a GPU works or `device` names a
  // device, else cpu: lavapipe is slower than the CPU backend on the same cores;
  // the model's backend() says which).
  std::string backend = "cpu";
  int device = -1;                 // vulkan: device index as `wb devices` lists; -1 picks the best
  int threads = 0;                 // 0: all cores
  bool dequantize_to_f32 = false;  // decode every matrix to f32 once (reference checks)
  // CPU backend: where the weights are read from. automatic: copied into
  // huge-page memory (MappedFile::make_resident) when the file takes under
  // half of the memory available now, else read from the file map; map:
  // always the file map; resident: always the copy.
  enum class WeightMemory { automatic, map, resident };
  WeightMemory weight_memory = WeightMemory::automatic;
  Log* log = nullptr;  // the backend's notes (vulkan: a kernel it turned off); may be null
};

// Which RWKV version a set of tensors is (names: see fixtures README §3.4).
Result<Arch> detect_arch(const TensorFile& tf);

// Builds a model from tensors already read (any container, either convention).
// `tf` is moved into the model (it owns the memory map).
Result<std::unique_ptr<Model>> build_model(TensorFile tf, const LoadOptions& opt);

// read_tensor_file + build_model, plus ModelInfo::model_key.
Result<std::unique_ptr<Model>> load_model(const std::string& path, const LoadOptions& opt = {});

// A cheap content fingerprint: 64-bit FNV-1a over the file size, the first and
// the last MiB (the header and tensor index of every supported format live
// there). Hex string. Not a cryptographic hash.
Result<std::string> file_fingerprint(const std::string& path);

}  // namespace wb
