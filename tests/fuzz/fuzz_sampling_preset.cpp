// Fuzz target: sampler preset text. No crash; what parses must round-trip.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/sampling/sampler.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto s = wb::sampling::parse_preset(text);
  if (!s) return 0;
  auto again = wb::sampling::parse_preset(wb::sampling::to_preset(*s));
  if (!again || !(*again == *s)) std::abort();
  // And sampling with whatever it says must be safe on a small vocabulary.
  wb::sampling::Sampler sampler(*s, 8);
  float logits[8] = {0.5f, 1.0f, -1.0f, 2.0f, 0.0f, 0.0f, 3.0f, -2.0f};
  for (int i = 0; i < 4; ++i) sampler.accept(sampler.sample(logits));
  return 0;
}
