// Random-weight RWKV-7 models of real shapes, written as GGUF the way
// llama.cpp's convert_hf_to_gguf.py lays them out, so our runtime and
// llama.cpp can be timed on the very same file.
//
//   wb::SynthSpec spec;                       // defaults: the 0.19B shape, f16
//   spec.n_layer = 24; spec.n_embd = 1024;    // the 0.45B shape
//   WB_CHECK(wb::write_synth_rwkv7_gguf(spec, "rwkv7-0.4b-f16.gguf"));
//
// Weights are deterministic in the seed and scaled like BlinkDL's init (small
// projections, decays in the trained range), so a forward pass stays finite.
#pragma once
#include <cstdint>
#include <string>

#include "core/util/result.hpp"

namespace wb {

struct SynthSpec {
  int n_layer = 12;
  int n_embd = 768;
  int n_vocab = 65536;
  int head_size = 64;
  std::string dtype = "f16";  // f32, f16, q8_0, q4_0 (big matrices; small ones stay f32 like the converter)
  uint64_t seed = 1;
};

// LoRA ranks of the official RWKV-7 recipe for width C (decay, iclr, value-mix, gate).
struct Rwkv7LoraRanks {
  int decay, iclr, value, gate;
};
Rwkv7LoraRanks rwkv7_lora_ranks(int n_embd);

Status write_synth_rwkv7_gguf(const SynthSpec& spec, const std::string& path);

}  // namespace wb
