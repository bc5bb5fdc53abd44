// Fuzz target: the GGUF reader with the rwkv6/rwkv7 name mapping, and the
// tokenizer built from its embedded vocab.
#include <cstdint>
#include <cstddef>

#include "core/model/gguf_file.hpp"
#include "core/tokenizer/world_tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = wb::parse_gguf({data, size}, "fuzz.gguf", nullptr, true);
  if (!r) return 0;
  uint64_t sum = 0;
  for (const auto& t : r->tensors.tensors)
    for (uint64_t i = 0; i < t.nbytes; ++i) sum += t.data[i];
  (void)sum;
  if (const auto* toks = r->find("tokenizer.ggml.tokens")) {
    const auto* types = r->find("tokenizer.ggml.token_type");
    auto tok = wb::WorldTokenizer::from_gguf_tokens(toks->strs, types ? types->nums : std::vector<double>{}, "fuzz");
    if (tok) (void)(*tok)->encode("fuzz \xff text");
  }
  return 0;
}
