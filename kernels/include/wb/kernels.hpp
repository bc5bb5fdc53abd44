// Embedded SPIR-V compute kernels.
//
//   if (auto k = wb::kernels::find("matvec_f16")) create_shader_module(k->words, k->size_bytes);
//
// Every kernels/*.comp is compiled by glslc at build time; nothing is compiled
// at run time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace wb::kernels {

struct Kernel {
  std::string_view name;      // file name without .comp
  const uint32_t* words;      // SPIR-V code
  std::size_t size_bytes;
};

// All embedded kernels, in file-name order.
std::span<const Kernel> all();
// The kernel of that name, or nullptr.
const Kernel* find(std::string_view name);

}  // namespace wb::kernels
