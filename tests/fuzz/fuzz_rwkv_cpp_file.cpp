// Fuzz target: the rwkv.cpp .bin parser, then (when it accepts the bytes) the
// architecture builders and a short forward pass. Nothing may crash, hang or
// allocate without bound; errors are the expected outcome for most inputs.
#include <cstdint>
#include <span>
#include <vector>

#include "core/model/load.hpp"
#include "core/model/rwkv_cpp_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tf = wb::parse_rwkv_cpp_bytes(std::span<const uint8_t>(data, size), "fuzz-input");
  if (!tf) return 0;
  wb::LoadOptions opt;
  opt.threads = 1;
  auto model = wb::build_model(std::move(*tf), opt);
  if (!model) return 0;
  wb::Model& m = **model;
  const int V = m.info().n_vocab;
  wb::State s = m.new_state();
  std::vector<float> logits(V);
  // Five tokens: enough columns for the batched (2 x 4) product kernel.
  const std::vector<int32_t> toks = {0, V - 1, V / 2, 1 % V, 0};
  (void)m.prefill(toks, s, logits);
  wb::State s2 = s;
  wb::State* both[2] = {&s, &s2};
  std::vector<float> l2(2 * static_cast<size_t>(V));
  (void)m.decode(std::vector<int32_t>{1 % V, 0}, both, l2);
  return 0;
}
