// Vulkan compute context: instance, one device, a compute queue, buffers,
// pipelines built from the embedded SPIR-V, and command streams.
//
//   WB_TRY(ctx, wb::vk::Context::create({.device_index = 0}));
//   WB_TRY(buf, ctx->make_buffer(1024, wb::vk::Memory::device));
//   WB_TRY(pipe, ctx->pipeline("fill_f32", 1, sizeof(wb::vk::FillPush)));
//   wb::vk::CommandStream cs(*ctx);
//   WB_CHECK(cs.begin());
//   WB_CHECK(cs.dispatch(*pipe, {&buf}, &push, sizeof push, groups));
//   WB_CHECK(cs.submit_and_wait());
//
// Every Vulkan failure becomes a wb::Error with Errc::device naming the call and
// the VkResult; nothing aborts. Out-of-memory leaves the context usable; a lost
// device makes every later call fail with a clear message (recreate the Context).
// Every physical device is listed, CPU devices (Mesa's lavapipe) included.
#pragma once
#include <vulkan/vulkan.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/backend/vulkan/vk_profile.hpp"
#include "core/util/result.hpp"

namespace wb {
class Log;
}

namespace wb::vk {

struct DeviceInfo {
  int index = 0;
  std::string name;
  std::string type;  // "discrete", "integrated", "virtual", "cpu", "other"
  uint32_t api_version = 0;
  uint64_t device_local_bytes = 0;  // largest device-local heap
  uint64_t max_storage_buffer_range = 0;
  uint64_t max_allocation_size = 0;  // maxMemoryAllocationSize (Vulkan 1.1)
  uint32_t subgroup_size = 0;
  bool subgroup_arithmetic = false;  // compute stage supports subgroupAdd & co
  uint32_t max_workgroup_invocations = 0;
  uint32_t max_shared_bytes = 0;
  uint32_t max_storage_buffers = 0;  // storage-buffer bindings per shader stage
  uint64_t max_uniform_range = 0;
  uint64_t min_uniform_offset_align = 0;
  // Multiprocessors / compute units, where the driver says (VK_NV_shader_sm_builtins,
  // VK_AMD_shader_core_properties, VK_ARM_shader_core_builtins); 0: unknown.
  uint32_t compute_units = 0;
};

// Lists every physical device (all types). Error when there is no Vulkan
// loader or no driver.
Result<std::vector<DeviceInfo>> list_devices();

// One line per device for `wb devices`.
std::string describe(const DeviceInfo& d);

enum class Memory {
  device,    // device-local; mapped when the device is unified (lavapipe, iGPU)
  host,      // host-visible, coherent: staging, uploads of inputs, readback
};

// Which matmul kernels run: the storage-buffer ones (GPUs) or the texel-buffer
// ones (CPU devices); automatic picks by device type. Tests force each.
enum class KernelPath : uint8_t { automatic, storage, texel };

struct ContextOptions {
  int device_index = -1;    // -1: the first discrete GPU, else integrated, else any
  bool gpu_only = false;    // with device_index -1: Errc::device where the best is a CPU device (lavapipe)
  KernelPath kernels = KernelPath::automatic;
  bool map_device_memory = true;  // false: Memory::device buffers are never mapped (staging paths)
  bool validation = false;  // enable VK_LAYER_KHRONOS_validation and count its errors
  Log* log = nullptr;       // validation messages and device notes go here
};

class Context;

// How a kernel binding sees its buffer. Texel-buffer bindings exist for CPU
// devices: Mesa's llvmpipe turns storage-buffer loads into a per-lane scalar
// loop, while texel fetches are vectorised gathers (and convert f16 for free).
enum class Binding : uint8_t {
  storage,     // layout(std430) buffer
  texel_f32,   // uniform samplerBuffer, VK_FORMAT_R32G32B32A32_SFLOAT (vec4 per texel)
  texel_f16,   // uniform samplerBuffer, VK_FORMAT_R16G16B16A16_SFLOAT (4 halves per texel)
  texel_u32,   // uniform usamplerBuffer, VK_FORMAT_R32G32B32A32_UINT (16 bytes per texel)
  texel_i8,    // uniform isamplerBuffer, VK_FORMAT_R8G8B8A8_SINT (4 int8 per texel)
  uniform,     // uniform block (<= maxUniformBufferRange): llvmpipe reads uniform offsets as broadcast scalars
};

// A storage buffer. Move-only; frees itself.
class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&& o) noexcept { *this = std::move(o); }
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { reset(); }
  void reset();

  VkBuffer handle() const { return buf_; }
  uint64_t size() const { return size_; }
  // Non-null when the memory is host-visible (always for Memory::host).
  void* mapped() const { return mapped_; }
  explicit operator bool() const { return buf_ != VK_NULL_HANDLE; }
  // A texel view of the whole buffer (created once per format).
  Result<VkBufferView> view(VkFormat format) const;

 private:
  friend class Context;
  mutable std::vector<std::pair<VkFormat, VkBufferView>> views_;
  Context* ctx_ = nullptr;
  VkBuffer buf_ = VK_NULL_HANDLE;
  VkDeviceMemory mem_ = VK_NULL_HANDLE;
  uint64_t size_ = 0;
  void* mapped_ = nullptr;
};

// A binding of part of a buffer (offset and range in bytes).
struct BufferRange {
  const Buffer* buf = nullptr;
  uint64_t offset = 0;
  uint64_t range = VK_WHOLE_SIZE;
};

struct Pipeline {
  std::string name;
  uint32_t n_bindings = 0;
  std::vector<Binding> bindings;
  uint32_t push_bytes = 0;
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkPipeline pipeline = VK_NULL_HANDLE;
};

class Context {
 public:
  static Result<std::unique_ptr<Context>> create(const ContextOptions& opt);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const DeviceInfo& device() const { return info_; }
  VkDevice vk_device() const { return dev_; }
  bool lost() const { return lost_; }
  // Marks the device lost, as VK_ERROR_DEVICE_LOST does (fault-injection tests).
  void inject_device_loss() { lost_ = true; }
  // Errors reported by the validation layer since creation (0 without it).
  uint32_t validation_errors() const { return validation_errors_.load(); }
  // Bytes currently allocated by make_buffer, by kind.
  uint64_t allocated_bytes() const { return allocated_.load(); }
  // Counts destroyed buffers: descriptor sets cached by a CommandStream are
  // dropped when it changes (a new buffer may reuse a freed handle).
  uint64_t buffers_freed() const { return buffers_freed_.load(); }

  Result<Buffer> make_buffer(uint64_t bytes, Memory kind);
  // Copies host bytes into a buffer (directly when mapped, else through a
  // staging buffer and a one-off submit).
  Status upload(Buffer& dst, uint64_t offset, const void* src, uint64_t bytes);
  Status download(const Buffer& src, uint64_t offset, void* dst, uint64_t bytes);

  // The compute pipeline of an embedded kernel with `n_bindings` storage
  // buffers (bindings 0..n-1, set 0), `push_bytes` of push constants and
  // specialisation constants 0..spec.size()-1. Cached by (name, spec).
  Result<const Pipeline*> pipeline(std::string_view kernel, uint32_t n_bindings, uint32_t push_bytes,
                                   std::initializer_list<uint32_t> spec = {});
  Result<const Pipeline*> pipeline(std::string_view kernel, std::span<const Binding> bindings, uint32_t push_bytes,
                                   std::initializer_list<uint32_t> spec = {});
  // Whether the device reads `b` as a uniform texel buffer.
  bool texel_format_supported(Binding b) const;
  // True for CPU devices, where the texel-buffer kernels are the fast path.
  bool prefers_texel_kernels() const { return prefer_texel_; }
  // How long a submit polls its fence before sleeping on it (see init).
  long fence_spin_us() const { return fence_spin_us_; }

  // Turns a VkResult into a Status naming `what`; records device loss.
  Status check(VkResult r, const char* what);

  uint32_t queue_family() const { return queue_family_; }
  // Non-null when WB_VK_PROFILE asks for per-kernel GPU times and the queue
  // has timestamps (see vk_profile.hpp).
  DispatchProfile* profile() const { return profile_.get(); }
  double timestamp_period_ns() const { return ts_period_ns_; }
  uint64_t timestamp_mask() const { return ts_mask_; }
  VkQueue queue() const { return queue_; }
  std::mutex& queue_mutex() { return queue_mu_; }

 private:
  friend class Buffer;
  Context() = default;
  Status init(const ContextOptions& opt);
  void free_buffer(Buffer& b);
  static VKAPI_ATTR VkBool32 VKAPI_CALL debug_callback(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                                       VkDebugUtilsMessageTypeFlagsEXT type,
                                                       const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                       void* user);

  Log* log_ = nullptr;
  VkInstance instance_ = VK_NULL_HANDLE;  // the process-wide one (shared_instance), not owned
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkPhysicalDevice phys_ = VK_NULL_HANDLE;
  VkDevice dev_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  std::mutex queue_mu_;
  VkPhysicalDeviceMemoryProperties mem_props_{};
  DeviceInfo info_;
  bool lost_ = false;
  bool prefer_texel_ = false;
  long fence_spin_us_ = 0;
  bool map_device_ = true;
  std::atomic<uint32_t> validation_errors_{0};
  std::atomic<uint64_t> allocated_{0};
  std::atomic<uint64_t> buffers_freed_{0};
  std::mutex pipe_mu_;
  std::map<std::string, std::unique_ptr<Pipeline>> pipelines_;
  std::unique_ptr<DispatchProfile> profile_;
  double ts_period_ns_ = 1.0;
  uint64_t ts_mask_ = ~0ull;
};

// Records compute work into one command buffer and submits it with a fence.
// Descriptor sets come from pools owned by the stream and are cached by
// (layout, bindings): a decode step records the same few hundred dispatches
// every token, and writing their sets anew cost more host time than the GPU
// spent on some of them. The cache is dropped when any buffer of the context is
// freed, or when it grows past kMaxCachedSets.
class CommandStream {
 public:
  explicit CommandStream(Context& ctx) : ctx_(&ctx) {}
  ~CommandStream();
  CommandStream(const CommandStream&) = delete;
  CommandStream& operator=(const CommandStream&) = delete;

  // `reusable`: the recording may be submitted again with resubmit() (no
  // one-time-submit flag); the next begin() discards it.
  Status begin(bool reusable = false);
  // Submits the last recording again and waits: the same commands over the
  // same buffers, whose contents the caller changed (decode re-records nothing
  // per token). Only after a reusable begin()'s submit_and_wait succeeded.
  Status resubmit();
  // Whether resubmit() may be called.
  bool can_resubmit() const { return resubmittable_; }
  // Binds `buffers` to bindings 0..n-1 (whole buffers), pushes constants and
  // dispatches. A compute->compute barrier is recorded before it when the
  // previous command wrote memory (all do), so ops run in order.
  Status dispatch(const Pipeline& p, std::initializer_list<const Buffer*> buffers, const void* push,
                  uint32_t push_bytes, uint32_t gx, uint32_t gy = 1, uint32_t gz = 1);
  Status dispatch(const Pipeline& p, std::span<const Buffer* const> buffers, const void* push,
                  uint32_t push_bytes, uint32_t gx, uint32_t gy = 1, uint32_t gz = 1);
  Status dispatch(const Pipeline& p, std::span<const BufferRange> buffers, const void* push, uint32_t push_bytes,
                  uint32_t gx, uint32_t gy = 1, uint32_t gz = 1);
  Status copy(const Buffer& src, uint64_t src_off, const Buffer& dst, uint64_t dst_off, uint64_t bytes);
  // Between these, dispatches get no barrier against each other (still one
  // against the work before the group, and the work after against them), so a
  // GPU may run them at once. Only for dispatches that write disjoint memory
  // that none of the others reads: r/k/v projections, the LoRA stages.
  void begin_independent();
  void end_independent() { independent_ = false; }
  Status submit_and_wait();
  uint32_t dispatch_count() const { return dispatches_; }
  // Barriers recorded since begin(): the dependent steps of the recording (a GPU
  // decode step pays for each; see README "Vulkan backend").
  uint32_t barrier_count() const { return barriers_; }
  // What the next submit is (prefill, decode, ...), for the profile; back to
  // "other" after each submit.
  void set_profile_tag(const char* tag) { tag_ = tag; }

 private:
  void barrier();
  void stamp(const std::string* key);
  void collect_profile();
  Status submit_recorded();
  Result<VkDescriptorSet> alloc_set(VkDescriptorSetLayout layout);

  Context* ctx_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  std::vector<VkDescriptorPool> desc_pools_;
  size_t desc_pool_cur_ = 0;
  static constexpr size_t kMaxCachedSets = 8192;
  std::map<std::vector<uint64_t>, VkDescriptorSet> set_cache_;
  std::vector<uint64_t> key_;  // the lookup key of the dispatch being recorded
  uint64_t cache_epoch_ = 0;  // ctx_->buffers_freed() when the cache was filled
  bool recording_ = false;
  bool reusable_ = false;        // the recording in progress was begun reusable
  bool resubmittable_ = false;   // the last recording was reusable and ran to completion
  bool pending_write_ = false;
  bool independent_ = false;
  uint32_t dispatches_ = 0, barriers_ = 0;
  // Profiling (only when ctx_->profile()): timestamp i+1 follows command i.
  static constexpr uint32_t kProfileQueries = 8192;
  VkQueryPool queries_ = VK_NULL_HANDLE;
  std::vector<const std::string*> stamped_;
  const char* tag_ = "other";
  std::chrono::steady_clock::time_point begun_, recorded_;
};

}  // namespace wb::vk
