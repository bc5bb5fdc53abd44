#include "core/backend/vulkan/vulkan_backend.hpp"

namespace wb::vk {

Result<std::unique_ptr<Model>> build_vulkan_model(const TensorFile& tf, Arch arch, const VulkanModelOptions& opt) {
  if (arch != Arch::v7)
    return make_error(Errc::unsupported, "{}: the Vulkan backend runs RWKV-7 only so far ({} needs --backend cpu)",
                      tf.path, arch_name(arch));
  WB_TRY(m, load_rwkv7_vulkan(tf, opt));
  return std::unique_ptr<Model>(std::move(m));
}

const VulkanModel* as_vulkan(const Model& m) {
  return m.backend() == "vulkan" ? static_cast<const VulkanModel*>(&m) : nullptr;
}

}  // namespace wb::vk
