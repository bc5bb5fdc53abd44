#include "core/backend/vulkan/vk_context.hpp"

#include <wb/kernels.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/util/log.hpp"

namespace wb::vk {
namespace {

// Bindings of one dispatch (the whole-layer decode kernel has 26; lavapipe
// allows 32 storage buffers per stage, desktop GPUs far more).
constexpr size_t kMaxBindings = 32;

// A zeroed Vulkan struct with its sType set.
template <class T>
T vk_struct(VkStructureType type) {
  T s{};
  s.sType = type;
  return s;
}

const char* vk_result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    default: return "VkResult";
  }
}

const char* type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

VkFormat binding_format(Binding b) {
  switch (b) {
    case Binding::texel_f32: return VK_FORMAT_R32G32B32A32_SFLOAT;
    case Binding::texel_f16: return VK_FORMAT_R16G16B16A16_SFLOAT;
    case Binding::texel_i8: return VK_FORMAT_R8G8B8A8_SINT;
    case Binding::texel_u32: return VK_FORMAT_R32G32B32A32_UINT;
    default: return VK_FORMAT_UNDEFINED;
  }
}

Error vk_error(VkResult r, const char* what) {
  return make_error(Errc::device, "vulkan: {} failed: {} ({})", what, vk_result_name(r), static_cast<int>(r));
}

Result<VkInstance> make_instance(bool validation) {
  auto app = vk_struct<VkApplicationInfo>(VK_STRUCTURE_TYPE_APPLICATION_INFO);
  app.pApplicationName = "rwkv-workbench";
  app.pEngineName = "wb";
  app.apiVersion = VK_API_VERSION_1_1;
  std::vector<const char*> layers;
  std::vector<const char*> exts;
  if (validation) {
    layers.push_back("VK_LAYER_KHRONOS_validation");
    exts.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }
  auto ci = vk_struct<VkInstanceCreateInfo>(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = static_cast<uint32_t>(layers.size());
  ci.ppEnabledLayerNames = layers.data();
  ci.enabledExtensionCount = static_cast<uint32_t>(exts.size());
  ci.ppEnabledExtensionNames = exts.data();
  VkInstance inst = VK_NULL_HANDLE;
  VkResult r = vkCreateInstance(&ci, nullptr, &inst);
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
    return make_error(Errc::device, "vulkan: no Vulkan driver found (install mesa-vulkan-drivers for lavapipe)");
  if (r == VK_ERROR_LAYER_NOT_PRESENT)
    return make_error(Errc::device, "vulkan: validation layer requested but not installed (vulkan-validationlayers)");
  if (r != VK_SUCCESS) return vk_error(r, "vkCreateInstance");
  return inst;
}

// One instance per process (two with validation), created on first use and
// kept until exit. Destroying the last instance makes the loader unload the
// driver; on an H200 (driver 580) the 26th create-destroy cycle in one process
// then failed with VK_ERROR_INCOMPATIBLE_DRIVER, so every model load after
// that would have lost the GPU. Devices stay per Context.
Result<VkInstance> shared_instance(bool validation) {
  static std::mutex mu;
  static VkInstance instances[2] = {VK_NULL_HANDLE, VK_NULL_HANDLE};
  std::lock_guard lock(mu);
  VkInstance& inst = instances[validation ? 1 : 0];
  if (!inst) {
    WB_TRY(fresh, make_instance(validation));  // a failure is not kept: a driver may appear later
    inst = fresh;
  }
  return inst;
}

bool has_extension(VkPhysicalDevice pd, const char* name) {
  uint32_t n = 0;
  if (vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkExtensionProperties> ext(n);
  if (vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, ext.data()) != VK_SUCCESS) return false;
  for (uint32_t i = 0; i < n; ++i)
    if (std::strcmp(ext[i].extensionName, name) == 0) return true;
  return false;
}

// One extension's properties struct, chained into vkGetPhysicalDeviceProperties2
// (only valid where the device supports that extension).
template <class T>
T extension_properties(VkPhysicalDevice pd, VkStructureType type) {
  auto props = vk_struct<T>(type);
  auto p2 = vk_struct<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2);
  p2.pNext = &props;
  vkGetPhysicalDeviceProperties2(pd, &p2);
  return props;
}

// The vendors' own counts of multiprocessors (NVIDIA), compute units (AMD) or
// shader cores (Arm); 0 where none is offered.
uint32_t compute_units(VkPhysicalDevice pd) {
  if (has_extension(pd, VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME))
    return extension_properties<VkPhysicalDeviceShaderSMBuiltinsPropertiesNV>(
               pd, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV)
        .shaderSMCount;
  if (has_extension(pd, VK_AMD_SHADER_CORE_PROPERTIES_EXTENSION_NAME)) {
    const auto cp = extension_properties<VkPhysicalDeviceShaderCorePropertiesAMD>(
        pd, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_AMD);
    return cp.shaderEngineCount * cp.shaderArraysPerEngineCount * cp.computeUnitsPerShaderArray;
  }
  if (has_extension(pd, VK_ARM_SHADER_CORE_BUILTINS_EXTENSION_NAME))
    return extension_properties<VkPhysicalDeviceShaderCoreBuiltinsPropertiesARM>(
               pd, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_BUILTINS_PROPERTIES_ARM)
        .shaderCoreCount;
  return 0;
}

DeviceInfo query_info(VkPhysicalDevice pd, int index) {
  DeviceInfo d;
  d.index = index;
  auto sg = vk_struct<VkPhysicalDeviceSubgroupProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES);
  auto m3 = vk_struct<VkPhysicalDeviceMaintenance3Properties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES);
  sg.pNext = &m3;
  auto p2 = vk_struct<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2);
  p2.pNext = &sg;
  vkGetPhysicalDeviceProperties2(pd, &p2);
  const auto& p = p2.properties;
  d.compute_units = compute_units(pd);
  d.name = p.deviceName;
  d.type = type_name(p.deviceType);
  d.api_version = p.apiVersion;
  d.max_storage_buffer_range = p.limits.maxStorageBufferRange;
  d.max_allocation_size = m3.maxMemoryAllocationSize;
  d.subgroup_size = sg.subgroupSize;
  d.subgroup_arithmetic = (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                          (sg.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
  d.max_workgroup_invocations = p.limits.maxComputeWorkGroupInvocations;
  d.max_shared_bytes = p.limits.maxComputeSharedMemorySize;
  d.max_storage_buffers = p.limits.maxPerStageDescriptorStorageBuffers;
  d.max_uniform_range = p.limits.maxUniformBufferRange;
  d.min_uniform_offset_align = p.limits.minUniformBufferOffsetAlignment;
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(pd, &mp);
  for (uint32_t i = 0; i < mp.memoryHeapCount; ++i)
    if (mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      d.device_local_bytes = std::max<uint64_t>(d.device_local_bytes, mp.memoryHeaps[i].size);
  return d;
}

Result<std::vector<VkPhysicalDevice>> physical_devices(VkInstance inst) {
  uint32_t n = 0;
  VkResult r = vkEnumeratePhysicalDevices(inst, &n, nullptr);
  if (r != VK_SUCCESS) return vk_error(r, "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> v(n);
  r = vkEnumeratePhysicalDevices(inst, &n, v.data());
  if (r != VK_SUCCESS && r != VK_INCOMPLETE) return vk_error(r, "vkEnumeratePhysicalDevices");
  v.resize(n);
  if (v.empty()) return make_error(Errc::device, "vulkan: no Vulkan device found (install mesa-vulkan-drivers for lavapipe)");
  return v;
}

}  // namespace

Result<std::vector<DeviceInfo>> list_devices() {
  WB_TRY(inst, shared_instance(false));
  WB_TRY(pds, physical_devices(inst));
  std::vector<DeviceInfo> out;
  for (size_t i = 0; i < pds.size(); ++i) out.push_back(query_info(pds[i], static_cast<int>(i)));
  return out;
}

std::string describe(const DeviceInfo& d) {
  std::string s = fmt::format("{}: {} | type {} | memory {} MiB | max storage buffer {} MiB | subgroup {} | Vulkan {}.{}",
                              d.index, d.name, d.type, d.device_local_bytes >> 20, d.max_storage_buffer_range >> 20,
                              d.subgroup_size, VK_API_VERSION_MAJOR(d.api_version),
                              VK_API_VERSION_MINOR(d.api_version));
  if (d.compute_units) s += fmt::format(" | compute units {}", d.compute_units);
  return s;
}

// ---- Buffer ---------------------------------------------------------------

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    reset();
    ctx_ = o.ctx_;
    buf_ = o.buf_;
    mem_ = o.mem_;
    size_ = o.size_;
    mapped_ = o.mapped_;
    o.ctx_ = nullptr;
    o.buf_ = VK_NULL_HANDLE;
    o.mem_ = VK_NULL_HANDLE;
    o.size_ = 0;
    o.mapped_ = nullptr;
    views_ = std::move(o.views_);
    o.views_.clear();
  }
  return *this;
}

Result<VkBufferView> Buffer::view(VkFormat format) const {
  for (auto& [f, v] : views_)
    if (f == format) return v;
  if (!ctx_) return make_error(Errc::internal, "vulkan: view of an empty buffer");
  auto ci = vk_struct<VkBufferViewCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO);
  ci.buffer = buf_;
  ci.format = format;
  ci.offset = 0;
  ci.range = VK_WHOLE_SIZE;
  VkBufferView v = VK_NULL_HANDLE;
  WB_CHECK(ctx_->check(vkCreateBufferView(ctx_->vk_device(), &ci, nullptr, &v), "vkCreateBufferView"));
  views_.emplace_back(format, v);
  return v;
}

void Buffer::reset() {
  if (ctx_)
    for (auto& [f, v] : views_) vkDestroyBufferView(ctx_->vk_device(), v, nullptr);
  views_.clear();
  if (ctx_) ctx_->free_buffer(*this);
  ctx_ = nullptr;
  buf_ = VK_NULL_HANDLE;
  mem_ = VK_NULL_HANDLE;
  size_ = 0;
  mapped_ = nullptr;
}

// ---- Context --------------------------------------------------------------

VKAPI_ATTR VkBool32 VKAPI_CALL Context::debug_callback(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                                       VkDebugUtilsMessageTypeFlagsEXT,
                                                       const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                       void* user) {
  auto* self = static_cast<Context*>(user);
  if (sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
    self->validation_errors_.fetch_add(1);
    if (self->log_) self->log_->error("vulkan validation: {}", data && data->pMessage ? data->pMessage : "?");
  } else if ((sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) && self->log_) {
    self->log_->warn("vulkan validation: {}", data && data->pMessage ? data->pMessage : "?");
  }
  return VK_FALSE;
}

Result<std::unique_ptr<Context>> Context::create(const ContextOptions& opt) {
  std::unique_ptr<Context> c(new Context());
  WB_CHECK(c->init(opt));
  return c;
}

Status Context::init(const ContextOptions& opt) {
  log_ = opt.log;
  // WB_VK_UNMAPPED=1 keeps device buffers unmapped on unified devices too, so
  // lavapipe follows a discrete GPU's staging paths (profiling them here).
  const char* unmapped = std::getenv("WB_VK_UNMAPPED");
  map_device_ = opt.map_device_memory && !(unmapped && std::strcmp(unmapped, "1") == 0);
  WB_TRY(inst, shared_instance(opt.validation));
  instance_ = inst;
  if (opt.validation) {
    auto create_fn = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
    if (!create_fn) return make_error(Errc::device, "vulkan: VK_EXT_debug_utils is not available");
    auto mi = vk_struct<VkDebugUtilsMessengerCreateInfoEXT>(VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT);
    mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT;
    mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    mi.pfnUserCallback = &Context::debug_callback;
    mi.pUserData = this;
    WB_CHECK(check(create_fn(instance_, &mi, nullptr, &messenger_), "vkCreateDebugUtilsMessengerEXT"));
  }
  WB_TRY(pds, physical_devices(instance_));
  int pick = opt.device_index;
  if (pick >= static_cast<int>(pds.size()))
    return make_error(Errc::invalid_argument, "vulkan: device {} does not exist ({} device(s); see `wb devices`)", pick,
                      pds.size());
  if (pick < 0) {
    // Prefer a real GPU; a CPU device (lavapipe) is still a valid choice.
    int best = -1, best_rank = 99;
    for (size_t i = 0; i < pds.size(); ++i) {
      VkPhysicalDeviceProperties p;
      vkGetPhysicalDeviceProperties(pds[i], &p);
      int rank = p.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU     ? 0
                 : p.deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ? 1
                 : p.deviceType == VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU    ? 2
                 : p.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU            ? 3
                                                                          : 4;
      if (rank < best_rank) best_rank = rank, best = static_cast<int>(i);
    }
    if (opt.gpu_only && best_rank > 2)
      return make_error(Errc::device, "vulkan: no GPU among the {} device(s) (see `wb devices`)", pds.size());
    pick = best;
  }
  phys_ = pds[static_cast<size_t>(pick)];
  info_ = query_info(phys_, pick);
  if (info_.api_version < VK_API_VERSION_1_1)
    return make_error(Errc::unsupported, "vulkan: device {} ({}) supports only Vulkan {}.{}; 1.1 is needed", pick,
                      info_.name, VK_API_VERSION_MAJOR(info_.api_version), VK_API_VERSION_MINOR(info_.api_version));
  if (!info_.subgroup_arithmetic)
    return make_error(Errc::unsupported, "vulkan: device {} ({}) lacks subgroup arithmetic in compute shaders", pick,
                      info_.name);
  vkGetPhysicalDeviceMemoryProperties(phys_, &mem_props_);
  const bool texel_ok = texel_format_supported(Binding::texel_f32) && texel_format_supported(Binding::texel_u32) &&
                        texel_format_supported(Binding::texel_i8);
  if (opt.kernels == KernelPath::texel && !texel_ok)
    return make_error(Errc::unsupported, "vulkan: device {} ({}) cannot read the texel-buffer formats", pick,
                      info_.name);
  // WB_VK_KERNELS=texel|storage overrides the automatic choice (tuning and
  // comparisons on new devices; explicit options from code still win).
  KernelPath path = opt.kernels;
  if (path == KernelPath::automatic) {
    const char* e = std::getenv("WB_VK_KERNELS");
    if (e && std::strcmp(e, "texel") == 0 && texel_ok) path = KernelPath::texel;
    if (e && std::strcmp(e, "storage") == 0) path = KernelPath::storage;
  }
  prefer_texel_ = path == KernelPath::texel || (path == KernelPath::automatic && texel_ok && info_.type == "cpu");
  // A GPU finishes a decode step in 1-3 ms; sleeping in vkWaitForFences then
  // added about 0.2 ms of wake-up per token (H200, 0.19B: 1,031-1,160 tokens/s
  // sleeping, 1,355 polling for up to 2 ms). CPU devices poll nothing: the
  // polling thread would take a core from the device's own threads.
  // WB_VK_SPIN=US overrides (0 turns polling off).
  fence_spin_us_ = info_.type == "cpu" ? 0 : 10000;
  if (const char* e = std::getenv("WB_VK_SPIN")) fence_spin_us_ = std::clamp(std::strtol(e, nullptr, 10), 0L, 100000L);

  uint32_t nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(phys_, &nq, nullptr);
  std::vector<VkQueueFamilyProperties> qf(nq);
  vkGetPhysicalDeviceQueueFamilyProperties(phys_, &nq, qf.data());
  int family = -1;
  for (uint32_t i = 0; i < nq; ++i) {
    bool compute = qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT;
    bool graphics = qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT;
    if (compute && !graphics) { family = static_cast<int>(i); break; }  // a dedicated compute queue
    if (compute && family < 0) family = static_cast<int>(i);
  }
  if (family < 0) return make_error(Errc::unsupported, "vulkan: device {} ({}) has no compute queue", pick, info_.name);
  queue_family_ = static_cast<uint32_t>(family);
  if (DispatchProfile::requested() && qf[queue_family_].timestampValidBits > 0) {
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(phys_, &props);
    profile_ = std::make_unique<DispatchProfile>();
    ts_period_ns_ = props.limits.timestampPeriod;
    const uint32_t bits = qf[queue_family_].timestampValidBits;
    ts_mask_ = bits >= 64 ? ~0ull : (1ull << bits) - 1;
  }

  float prio = 1.0f;
  auto qci = vk_struct<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
  qci.queueFamilyIndex = queue_family_;
  qci.queueCount = 1;
  qci.pQueuePriorities = &prio;
  auto dci = vk_struct<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  WB_CHECK(check(vkCreateDevice(phys_, &dci, nullptr, &dev_), "vkCreateDevice"));
  vkGetDeviceQueue(dev_, queue_family_, 0, &queue_);
  if (log_) log_->debug("vulkan: using {}", describe(info_));
  return {};
}

Context::~Context() {
  if (profile_ && !profile_->empty()) {
    std::fprintf(stderr, "vk_profile device %s\n", info_.name.c_str());
    profile_->print(stderr);
  }
  if (dev_) {
    vkDeviceWaitIdle(dev_);
    for (auto& [k, p] : pipelines_) {
      vkDestroyPipeline(dev_, p->pipeline, nullptr);
      vkDestroyPipelineLayout(dev_, p->layout, nullptr);
      vkDestroyDescriptorSetLayout(dev_, p->set_layout, nullptr);
    }
    vkDestroyDevice(dev_, nullptr);
  }
  if (messenger_) {
    auto destroy_fn = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy_fn) destroy_fn(instance_, messenger_, nullptr);
  }
}

Status Context::check(VkResult r, const char* what) {
  if (r == VK_SUCCESS) return {};
  if (r == VK_ERROR_DEVICE_LOST) lost_ = true;
  return vk_error(r, what);
}

Result<Buffer> Context::make_buffer(uint64_t bytes, Memory kind) {
  if (lost_) return make_error(Errc::device, "vulkan: device was lost; recreate the backend");
  if (bytes == 0) bytes = 16;
  bytes = (bytes + 15) & ~uint64_t{15};  // whole 16-byte texels for texel views
  if (bytes > info_.max_storage_buffer_range)
    return make_error(Errc::limit, "vulkan: buffer of {} bytes exceeds the device's storage-buffer limit of {} bytes",
                      bytes, info_.max_storage_buffer_range);
  if (info_.max_allocation_size && bytes > info_.max_allocation_size)
    return make_error(Errc::limit, "vulkan: buffer of {} bytes exceeds the device's allocation limit", bytes);
  Buffer b;
  b.ctx_ = this;
  b.size_ = bytes;
  auto bci = vk_struct<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
  bci.size = bytes;
  bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
              VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT |
              VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  WB_CHECK(check(vkCreateBuffer(dev_, &bci, nullptr, &b.buf_), "vkCreateBuffer"));
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(dev_, b.buf_, &req);

  auto find_type = [&](VkMemoryPropertyFlags want) -> int {
    for (uint32_t i = 0; i < mem_props_.memoryTypeCount; ++i)
      if ((req.memoryTypeBits & (1u << i)) && (mem_props_.memoryTypes[i].propertyFlags & want) == want)
        return static_cast<int>(i);
    return -1;
  };
  const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  int type = -1;
  if (kind == Memory::device) {
    // Unified memory (lavapipe, integrated GPUs) maps directly: no staging copies.
    type = find_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | hv);
    if (type < 0 || info_.type == "discrete") type = find_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    if (type < 0) type = find_type(0);
  } else {
    type = find_type(hv | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    if (type < 0) type = find_type(hv);
  }
  if (type < 0) return make_error(Errc::device, "vulkan: no suitable memory type for a {}-byte buffer", bytes);
  auto mai = vk_struct<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
  mai.allocationSize = req.size;
  mai.memoryTypeIndex = static_cast<uint32_t>(type);
  VkResult r = vkAllocateMemory(dev_, &mai, nullptr, &b.mem_);
  if (r != VK_SUCCESS) {
    Error e = make_error(Errc::device, "vulkan: out of memory allocating {} MiB ({})", (bytes + (1 << 20) - 1) >> 20,
                         vk_result_name(r));
    return e;  // b's destructor frees the VkBuffer
  }
  allocated_.fetch_add(b.size_);
  WB_CHECK(check(vkBindBufferMemory(dev_, b.buf_, b.mem_, 0), "vkBindBufferMemory"));
  if ((mem_props_.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
      (kind == Memory::host || map_device_))
    WB_CHECK(check(vkMapMemory(dev_, b.mem_, 0, VK_WHOLE_SIZE, 0, &b.mapped_), "vkMapMemory"));
  return b;
}

void Context::free_buffer(Buffer& b) {
  if (b.mapped_) vkUnmapMemory(dev_, b.mem_);
  if (b.buf_) vkDestroyBuffer(dev_, b.buf_, nullptr);
  if (b.mem_) {
    vkFreeMemory(dev_, b.mem_, nullptr);
    allocated_.fetch_sub(b.size_);
  }
  buffers_freed_.fetch_add(1);
}

Status Context::upload(Buffer& dst, uint64_t offset, const void* src, uint64_t bytes) {
  if (offset + bytes > dst.size()) return make_error(Errc::internal, "vulkan: upload past the end of a buffer");
  if (bytes == 0) return {};
  if (dst.mapped()) {
    std::memcpy(static_cast<uint8_t*>(dst.mapped()) + offset, src, bytes);
    return {};
  }
  WB_TRY(staging, make_buffer(bytes, Memory::host));
  std::memcpy(staging.mapped(), src, bytes);
  CommandStream cs(*this);
  WB_CHECK(cs.begin());
  WB_CHECK(cs.copy(staging, 0, dst, offset, bytes));
  return cs.submit_and_wait();
}

Status Context::download(const Buffer& src, uint64_t offset, void* dst, uint64_t bytes) {
  if (offset + bytes > src.size()) return make_error(Errc::internal, "vulkan: download past the end of a buffer");
  if (bytes == 0) return {};
  if (src.mapped()) {
    std::memcpy(dst, static_cast<const uint8_t*>(src.mapped()) + offset, bytes);
    return {};
  }
  WB_TRY(staging, make_buffer(bytes, Memory::host));
  CommandStream cs(*this);
  WB_CHECK(cs.begin());
  WB_CHECK(cs.copy(src, offset, staging, 0, bytes));
  WB_CHECK(cs.submit_and_wait());
  std::memcpy(dst, staging.mapped(), bytes);
  return {};
}

bool Context::texel_format_supported(Binding b) const {
  if (b == Binding::storage) return true;
  VkFormatProperties fp;
  vkGetPhysicalDeviceFormatProperties(phys_, binding_format(b), &fp);
  return fp.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT;
}

Result<const Pipeline*> Context::pipeline(std::string_view kernel, uint32_t n_bindings, uint32_t push_bytes,
                                          std::initializer_list<uint32_t> spec) {
  std::vector<Binding> kinds(n_bindings, Binding::storage);
  return pipeline(kernel, kinds, push_bytes, spec);
}

Result<const Pipeline*> Context::pipeline(std::string_view kernel, std::span<const Binding> kinds,
                                          uint32_t push_bytes, std::initializer_list<uint32_t> spec) {
  const uint32_t n_bindings = static_cast<uint32_t>(kinds.size());
  std::string key(kernel);
  for (uint32_t s : spec) key += fmt::format(":{}", s);
  std::lock_guard lock(pipe_mu_);
  if (auto it = pipelines_.find(key); it != pipelines_.end()) return it->second.get();
  const kernels::Kernel* k = kernels::find(kernel);
  if (!k) return make_error(Errc::internal, "vulkan: kernel '{}' is not embedded", kernel);

  auto p = std::make_unique<Pipeline>();
  p->name = key;
  p->n_bindings = n_bindings;
  p->bindings.assign(kinds.begin(), kinds.end());
  p->push_bytes = push_bytes;
  std::vector<VkDescriptorSetLayoutBinding> binds(n_bindings);
  for (uint32_t i = 0; i < n_bindings; ++i) {
    binds[i].binding = i;
    binds[i].descriptorType = kinds[i] == Binding::storage   ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                              : kinds[i] == Binding::uniform ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER
                                                             : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
    binds[i].descriptorCount = 1;
    binds[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  auto dl = vk_struct<VkDescriptorSetLayoutCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
  dl.bindingCount = n_bindings;
  dl.pBindings = binds.data();
  WB_CHECK(check(vkCreateDescriptorSetLayout(dev_, &dl, nullptr, &p->set_layout), "vkCreateDescriptorSetLayout"));
  VkPushConstantRange pr{VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes};
  auto pl = vk_struct<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
  pl.setLayoutCount = 1;
  pl.pSetLayouts = &p->set_layout;
  pl.pushConstantRangeCount = push_bytes ? 1 : 0;
  pl.pPushConstantRanges = &pr;
  VkResult r = vkCreatePipelineLayout(dev_, &pl, nullptr, &p->layout);
  if (r != VK_SUCCESS) {
    vkDestroyDescriptorSetLayout(dev_, p->set_layout, nullptr);
    return vk_error(r, "vkCreatePipelineLayout");
  }
  auto sm = vk_struct<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
  sm.codeSize = k->size_bytes;
  sm.pCode = k->words;
  VkShaderModule mod = VK_NULL_HANDLE;
  r = vkCreateShaderModule(dev_, &sm, nullptr, &mod);
  if (r == VK_SUCCESS) {
    std::vector<uint32_t> values(spec);
    std::vector<VkSpecializationMapEntry> entries(values.size());
    for (uint32_t i = 0; i < values.size(); ++i) entries[i] = {i, i * 4u, 4u};
    VkSpecializationInfo si{static_cast<uint32_t>(entries.size()), entries.data(), values.size() * 4, values.data()};
    auto cp = vk_struct<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
    cp.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    cp.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    cp.stage.module = mod;
    cp.stage.pName = "main";
    cp.stage.pSpecializationInfo = values.empty() ? nullptr : &si;
    cp.layout = p->layout;
    r = vkCreateComputePipelines(dev_, VK_NULL_HANDLE, 1, &cp, nullptr, &p->pipeline);
    vkDestroyShaderModule(dev_, mod, nullptr);
  }
  if (r != VK_SUCCESS) {
    vkDestroyPipelineLayout(dev_, p->layout, nullptr);
    vkDestroyDescriptorSetLayout(dev_, p->set_layout, nullptr);
    return make_error(Errc::device, "vulkan: building pipeline '{}' failed: {}", key, vk_result_name(r));
  }
  const Pipeline* out = p.get();
  pipelines_.emplace(key, std::move(p));
  return out;
}

// ---- CommandStream --------------------------------------------------------

CommandStream::~CommandStream() {
  VkDevice d = ctx_->vk_device();
  if (fence_) {
    if (recording_) vkEndCommandBuffer(cmd_);
    vkDestroyFence(d, fence_, nullptr);
  }
  if (queries_) vkDestroyQueryPool(d, queries_, nullptr);
  for (VkDescriptorPool p : desc_pools_) vkDestroyDescriptorPool(d, p, nullptr);
  if (pool_) vkDestroyCommandPool(d, pool_, nullptr);
}

Status CommandStream::begin(bool reusable) {
  if (ctx_->lost()) return make_error(Errc::device, "vulkan: device was lost; recreate the backend");
  VkDevice d = ctx_->vk_device();
  if (!pool_) {
    auto ci = vk_struct<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
    ci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    ci.queueFamilyIndex = ctx_->queue_family();
    WB_CHECK(ctx_->check(vkCreateCommandPool(d, &ci, nullptr, &pool_), "vkCreateCommandPool"));
    auto ai = vk_struct<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
    ai.commandPool = pool_;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    WB_CHECK(ctx_->check(vkAllocateCommandBuffers(d, &ai, &cmd_), "vkAllocateCommandBuffers"));
    auto fi = vk_struct<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
    WB_CHECK(ctx_->check(vkCreateFence(d, &fi, nullptr, &fence_), "vkCreateFence"));
  }
  if (recording_) {
    vkEndCommandBuffer(cmd_);
    recording_ = false;
  }
  resubmittable_ = false;
  WB_CHECK(ctx_->check(vkResetCommandBuffer(cmd_, 0), "vkResetCommandBuffer"));
  if (cache_epoch_ != ctx_->buffers_freed() || set_cache_.size() > kMaxCachedSets) {
    for (VkDescriptorPool p : desc_pools_) vkResetDescriptorPool(d, p, 0);
    desc_pool_cur_ = 0;
    set_cache_.clear();
    cache_epoch_ = ctx_->buffers_freed();
  }
  auto bi = vk_struct<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
  bi.flags = reusable ? 0 : VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  WB_CHECK(ctx_->check(vkBeginCommandBuffer(cmd_, &bi), "vkBeginCommandBuffer"));
  stamped_.clear();
  if (ctx_->profile()) {
    if (!queries_) {
      auto qi = vk_struct<VkQueryPoolCreateInfo>(VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO);
      qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
      qi.queryCount = kProfileQueries;
      WB_CHECK(ctx_->check(vkCreateQueryPool(d, &qi, nullptr, &queries_), "vkCreateQueryPool"));
    }
    vkCmdResetQueryPool(cmd_, queries_, 0, kProfileQueries);
    vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries_, 0);
    begun_ = std::chrono::steady_clock::now();
  }
  recording_ = true;
  reusable_ = reusable;
  pending_write_ = false;
  independent_ = false;
  dispatches_ = 0;
  barriers_ = 0;
  return {};
}

Result<VkDescriptorSet> CommandStream::alloc_set(VkDescriptorSetLayout layout) {
  VkDevice d = ctx_->vk_device();
  for (;;) {
    if (desc_pool_cur_ == desc_pools_.size()) {
      // Pools grow on demand; a layer of a big model records a few hundred sets.
      constexpr uint32_t kSets = 512;
      VkDescriptorPoolSize ps[3] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSets * 8},
                                    {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, kSets * 4},
                                    {VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, kSets * 2}};
      auto ci = vk_struct<VkDescriptorPoolCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
      ci.maxSets = kSets;
      ci.poolSizeCount = 3;
      ci.pPoolSizes = ps;
      VkDescriptorPool pool = VK_NULL_HANDLE;
      WB_CHECK(ctx_->check(vkCreateDescriptorPool(d, &ci, nullptr, &pool), "vkCreateDescriptorPool"));
      desc_pools_.push_back(pool);
    }
    auto ai = vk_struct<VkDescriptorSetAllocateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
    ai.descriptorPool = desc_pools_[desc_pool_cur_];
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &layout;
    VkDescriptorSet set = VK_NULL_HANDLE;
    VkResult r = vkAllocateDescriptorSets(d, &ai, &set);
    if (r == VK_SUCCESS) return set;
    if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
      return ctx_->check(r, "vkAllocateDescriptorSets").take_error();
    ++desc_pool_cur_;
  }
}

void CommandStream::stamp(const std::string* key) {
  if (!queries_ || !ctx_->profile() || stamped_.size() + 1 >= kProfileQueries) return;
  stamped_.push_back(key);
  vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, static_cast<uint32_t>(stamped_.size()));
}

void CommandStream::collect_profile() {
  DispatchProfile* prof = ctx_->profile();
  const char* tag = tag_;
  tag_ = "other";
  if (!prof || stamped_.empty()) return;
  const double host_ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - begun_).count();
  std::vector<uint64_t> ts(stamped_.size() + 1);
  if (vkGetQueryPoolResults(ctx_->vk_device(), queries_, 0, static_cast<uint32_t>(ts.size()), ts.size() * 8,
                            ts.data(), 8, VK_QUERY_RESULT_64_BIT) != VK_SUCCESS)
    return;
  const uint64_t mask = ctx_->timestamp_mask();
  const double period = ctx_->timestamp_period_ns();
  const std::string prefix = std::string(tag) + " ";
  for (size_t i = 0; i < stamped_.size(); ++i)
    prof->add(prefix + *stamped_[i], double((ts[i + 1] - ts[i]) & mask) * period);
  prof->add(prefix + "[gpu]", double((ts.back() - ts.front()) & mask) * period);
  prof->add(prefix + "[host]", host_ns);
  // Recording and submitting on the host, before the GPU could start.
  prof->add(prefix + "[record]", std::chrono::duration<double, std::nano>(recorded_ - begun_).count());
  prof->add(prefix + "[dispatches]", 0.0, dispatches_);
  prof->add(prefix + "[barriers]", 0.0, barriers_);
}

void CommandStream::begin_independent() {
  barrier();
  independent_ = true;
}

void CommandStream::barrier() {
  if (!pending_write_ || independent_) return;
  auto mb = vk_struct<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                     VK_ACCESS_TRANSFER_WRITE_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, nullptr,
                       0, nullptr);
  pending_write_ = false;
  ++barriers_;
}

Status CommandStream::dispatch(const Pipeline& p, std::initializer_list<const Buffer*> buffers, const void* push,
                               uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz) {
  return dispatch(p, std::span<const Buffer* const>(buffers.begin(), buffers.size()), push, push_bytes, gx, gy, gz);
}

Status CommandStream::dispatch(const Pipeline& p, std::span<const Buffer* const> buffers, const void* push,
                               uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz) {
  BufferRange r[kMaxBindings];
  if (buffers.size() > kMaxBindings) return make_error(Errc::internal, "vulkan: too many bindings");
  for (size_t i = 0; i < buffers.size(); ++i) r[i].buf = buffers[i];
  return dispatch(p, std::span<const BufferRange>(r, buffers.size()), push, push_bytes, gx, gy, gz);
}

Status CommandStream::dispatch(const Pipeline& p, std::span<const BufferRange> buffers, const void* push,
                               uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz) {
  if (!recording_) return make_error(Errc::internal, "vulkan: dispatch outside begin()/submit");
  if (buffers.size() != p.n_bindings || push_bytes != p.push_bytes)
    return make_error(Errc::internal, "vulkan: '{}' needs {} buffers and {} push bytes, got {} and {}", p.name,
                      p.n_bindings, p.push_bytes, buffers.size(), push_bytes);
  if (gx == 0 || gy == 0 || gz == 0) return {};
  if (buffers.size() > kMaxBindings) return make_error(Errc::internal, "vulkan: too many bindings");
  VkBufferView views[kMaxBindings];
  std::vector<uint64_t>& key = key_;  // reused: no allocation per dispatch on a cache hit
  key.clear();
  key.push_back(reinterpret_cast<uint64_t>(p.set_layout));
  for (size_t i = 0; i < buffers.size(); ++i) {
    const Buffer* b = buffers[i].buf;
    if (!b || !*b) return make_error(Errc::internal, "vulkan: '{}' binding {} is empty", p.name, i);
    if (p.bindings[i] == Binding::storage || p.bindings[i] == Binding::uniform) {
      key.insert(key.end(), {reinterpret_cast<uint64_t>(b->handle()), buffers[i].offset, buffers[i].range});
    } else {
      WB_TRY(v, b->view(binding_format(p.bindings[i])));
      views[i] = v;
      key.insert(key.end(), {reinterpret_cast<uint64_t>(v), 0, 0});
    }
  }
  VkDescriptorSet set = VK_NULL_HANDLE;
  if (auto it = set_cache_.find(key); it != set_cache_.end()) {
    set = it->second;
  } else {
    WB_TRY(fresh, alloc_set(p.set_layout));
    set = fresh;
    VkDescriptorBufferInfo infos[kMaxBindings];
    VkWriteDescriptorSet writes[kMaxBindings];
    for (size_t i = 0; i < buffers.size(); ++i) {
      const Buffer* b = buffers[i].buf;
      writes[i] = vk_struct<VkWriteDescriptorSet>(VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
      writes[i].dstSet = set;
      writes[i].dstBinding = static_cast<uint32_t>(i);
      writes[i].descriptorCount = 1;
      if (p.bindings[i] == Binding::storage || p.bindings[i] == Binding::uniform) {
        infos[i] = {b->handle(), buffers[i].offset, buffers[i].range};
        writes[i].descriptorType = p.bindings[i] == Binding::storage ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                                                                     : VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER;
        writes[i].pBufferInfo = &infos[i];
      } else {
        writes[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
        writes[i].pTexelBufferView = &views[i];
      }
    }
    vkUpdateDescriptorSets(ctx_->vk_device(), static_cast<uint32_t>(buffers.size()), writes, 0, nullptr);
    set_cache_.emplace(key, set);
  }
  barrier();
  vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline);
  vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, 1, &set, 0, nullptr);
  if (push_bytes) vkCmdPushConstants(cmd_, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
  vkCmdDispatch(cmd_, gx, gy, gz);
  pending_write_ = true;
  ++dispatches_;
  stamp(&p.name);
  return {};
}

Status CommandStream::copy(const Buffer& src, uint64_t src_off, const Buffer& dst, uint64_t dst_off, uint64_t bytes) {
  if (!recording_) return make_error(Errc::internal, "vulkan: copy outside begin()/submit");
  if (src_off + bytes > src.size() || dst_off + bytes > dst.size())
    return make_error(Errc::internal, "vulkan: copy of {} bytes out of bounds", bytes);
  if (bytes == 0) return {};
  barrier();
  VkBufferCopy region{src_off, dst_off, bytes};
  vkCmdCopyBuffer(cmd_, src.handle(), dst.handle(), 1, &region);
  pending_write_ = true;
  static const std::string kCopy = "copy";
  stamp(&kCopy);
  return {};
}

Status CommandStream::submit_and_wait() {
  if (!recording_) return make_error(Errc::internal, "vulkan: submit without begin()");
  // Make shader/transfer writes visible to the host before it reads mapped memory.
  auto mb = vk_struct<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
  recording_ = false;
  WB_CHECK(ctx_->check(vkEndCommandBuffer(cmd_), "vkEndCommandBuffer"));
  WB_CHECK(submit_recorded());
  resubmittable_ = reusable_;
  return {};
}

Status CommandStream::resubmit() {
  if (!resubmittable_ || recording_) return make_error(Errc::internal, "vulkan: nothing to submit again");
  if (ctx_->lost()) return make_error(Errc::device, "vulkan: device was lost; recreate the backend");
  resubmittable_ = false;  // until this run completes
  begun_ = std::chrono::steady_clock::now();
  WB_CHECK(submit_recorded());
  resubmittable_ = true;
  return {};
}

// Submits cmd_ and waits for it (a generous timeout: lavapipe runs big prefill
// chunks on the CPU), then reads the profile.
Status CommandStream::submit_recorded() {
  VkDevice d = ctx_->vk_device();
  WB_CHECK(ctx_->check(vkResetFences(d, 1, &fence_), "vkResetFences"));
  auto si = vk_struct<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd_;
  {
    std::lock_guard lock(ctx_->queue_mutex());
    WB_CHECK(ctx_->check(vkQueueSubmit(ctx_->queue(), 1, &si, fence_), "vkQueueSubmit"));
  }
  recorded_ = std::chrono::steady_clock::now();
  VkResult r = VK_NOT_READY;
  if (ctx_->fence_spin_us() > 0) {
    const auto until = recorded_ + std::chrono::microseconds(ctx_->fence_spin_us());
    while ((r = vkGetFenceStatus(d, fence_)) == VK_NOT_READY && std::chrono::steady_clock::now() < until) {
    }
  }
  constexpr uint64_t kTimeoutNs = 600ull * 1000 * 1000 * 1000;
  if (r == VK_NOT_READY) r = vkWaitForFences(d, 1, &fence_, VK_TRUE, kTimeoutNs);
  if (r == VK_TIMEOUT) return make_error(Errc::device, "vulkan: GPU work did not finish within 600 s");
  WB_CHECK(ctx_->check(r, "vkWaitForFences"));
  collect_profile();
  return {};
}

}  // namespace wb::vk
