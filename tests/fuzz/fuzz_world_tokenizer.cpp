// Fuzz target: the World vocab parser (input as a vocab file) and the
// encoder / streaming decoder (input as text, against a small vocab), which
// must round-trip every byte string exactly.
#include <cstdint>
#include <cstddef>
#include <cstdlib>
#include <string>

#include "core/tokenizer/world_tokenizer.hpp"

namespace {
const wb::WorldTokenizer& small_vocab() {
  static const auto tok = [] {
    std::string v;
    for (int b = 0; b < 256; ++b) v += std::to_string(b + 1) + " b'\\x" + "0123456789abcdef"[b >> 4] + "0123456789abcdef"[b & 15] + "' 1\n";
    v += "257 ' the' 4\n258 '\\n\\n' 2\n259 '今天' 6\n260 b'\\xe4\\xbb' 2\n261 'ab' 2\n262 'abc' 3\n";
    auto r = wb::WorldTokenizer::from_vocab_text(v, "small");
    if (!r) std::abort();
    return std::move(*r);
  }();
  return *tok;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  auto parsed = wb::WorldTokenizer::from_vocab_text(s, "fuzz.txt");
  if (parsed) (void)(*parsed)->encode(s);

  const auto& tok = small_vocab();
  auto ids = tok.encode(s);
  if (!ids) std::abort();
  wb::StreamDecoder dec(tok);
  std::string all;
  for (int32_t id : *ids) {
    auto c = dec.push(id);
    if (!c) std::abort();
    all += *c;
  }
  all += dec.flush();
  if (all != s) std::abort();  // round trip is a guarantee, not a hope
  return 0;
}
