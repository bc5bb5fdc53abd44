// Fuzz target: the .pth reader (zip directory + restricted pickle + tensors).
#include <cstdint>
#include <cstddef>

#include "core/model/pth_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = wb::parse_pth({data, size}, "fuzz.pth", nullptr);
  if (r) {
    uint64_t sum = 0;  // touch every byte a tensor claims, so bad bounds show up under ASan
    for (const auto& t : r->tensors)
      for (uint64_t i = 0; i < t.nbytes; ++i) sum += t.data[i];
    (void)sum;
  }
  return 0;
}
