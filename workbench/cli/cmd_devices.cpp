#include <cstdio>

#include "cli/verbs.hpp"
#include "core/backend/vulkan/vk_context.hpp"

namespace wb::cli {

// One line per Vulkan device, CPU devices (lavapipe) included; the index is
// what `--device N` takes.
int cmd_devices(Args& args) {
  if (auto st = args.reject_unknown(); !st) return fail(st.error());
  auto devs = vk::list_devices();
  if (!devs) {
    std::fprintf(stderr, "wb: %s\nwb: the cpu backend is still available (--backend cpu)\n",
                 devs.error().message.c_str());
    return 1;
  }
  for (const auto& d : *devs) std::printf("%s\n", vk::describe(d).c_str());
  return 0;
}

}  // namespace wb::cli
