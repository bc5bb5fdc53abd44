// Fuzz target: the restricted pickle reader alone.
#include <cstdint>
#include <cstddef>

#include "core/model/pickle_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wb::pickle::Limits lim;
  lim.max_objects = 1 << 16;  // keep each run small
  auto r = wb::pickle::load({data, size}, lim);
  (void)r;
  return 0;
}
