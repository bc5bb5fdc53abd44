// Fuzz target: the safetensors reader.
#include <cstdint>
#include <cstddef>

#include "core/model/safetensors_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = wb::parse_safetensors({data, size}, "fuzz.safetensors", nullptr);
  if (r) {
    uint64_t sum = 0;
    for (const auto& t : r->tensors)
      for (uint64_t i = 0; i < t.nbytes; ++i) sum += t.data[i];
    (void)sum;
  }
  return 0;
}
