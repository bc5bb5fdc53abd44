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

struct LoadOptions {
  std::string backend = "cpu";
  int threads = 0;                 // 0: all cores
  bool dequantize_to_f32 = false;  // decode every matrix to f32 once (reference checks)
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
