// Entry point of the Vulkan backend for load_model(): builds the Vulkan model
// of a tensor file's architecture.
//
//   WB_TRY(arch, wb::detect_arch(tf));
//   WB_TRY(model, wb::vk::build_vulkan_model(tf, arch, {.device_index = 0}));
//
// Errors: Errc::device when there is no usable Vulkan device (the caller may
// fall back to the CPU), Errc::unsupported for shapes the kernels do not
// take (head size > 64, n_embd not a multiple of 8), Errc::format for inconsistent tensors.
// A model that offers decode variants (RWKV-7 on a GPU) has them measured here
// and decodes the fastest way that agrees with the reference (decode_tuner.hpp;
// VulkanModel::decode_tuning() keeps the figures, and opt.log gets one line).
#pragma once
#include <memory>

#include "core/backend/vulkan/rwkv7_vulkan.hpp"

namespace wb::vk {

Result<std::unique_ptr<Model>> build_vulkan_model(const TensorFile& tf, Arch arch, const VulkanModelOptions& opt);

// The Vulkan view of a model built here (memory accounting), or nullptr.
const VulkanModel* as_vulkan(const Model& m);

}  // namespace wb::vk
