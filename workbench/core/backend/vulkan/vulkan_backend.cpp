#include "core/backend/vulkan/vulkan_backend.hpp"

#include "core/backend/vulkan/rwkv_vulkan.hpp"
#include "core/util/log.hpp"

namespace wb::vk {

Result<std::unique_ptr<Model>> build_vulkan_model(const TensorFile& tf, Arch arch, const VulkanModelOptions& opt) {
  auto m = [&]() -> Result<std::unique_ptr<VulkanModel>> {
    switch (arch) {
      case Arch::v4: return load_rwkv4_vulkan(tf, opt);
      case Arch::v5_1:
      case Arch::v5_2: return load_rwkv5_vulkan(tf, opt, arch);
      case Arch::v6: return load_rwkv6_vulkan(tf, opt);
      case Arch::v7: return load_rwkv7_vulkan(tf, opt);
    }
    return make_error(Errc::internal, "unhandled architecture");
  }();
  if (!m) return m.take_error();
  // Where the model offers more than one way to decode, the device decides
  // (decode_tuner.hpp); a measurement that fails leaves the reference in use.
  if ((*m)->decode_variants().size() >= 2) {
    auto tuned = tune_decode(**m);
    if (!tuned) {
      if (opt.log) opt.log->warn("vulkan: measuring the decode variants failed ({}); decoding as '{}'",
                                 tuned.error().message, (*m)->decode_variant());
    } else {
      if (opt.log)
        opt.log->info("vulkan: decode variant '{}' chosen by measuring one-state decode steps: {}", tuned->chosen,
                      summarize(*tuned));
      (*m)->set_decode_tuning(std::move(*tuned));
    }
  }
  return std::unique_ptr<Model>(std::move(*m));
}

const VulkanModel* as_vulkan(const Model& m) {
  return m.backend() == "vulkan" ? static_cast<const VulkanModel*>(&m) : nullptr;
}

}  // namespace wb::vk
