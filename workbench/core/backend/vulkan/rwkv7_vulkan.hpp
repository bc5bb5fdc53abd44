// RWKV-7 on the Vulkan backend, and the options / memory report every Vulkan
// model shares (the common machinery: rwkv_vulkan.hpp; v4-v6: rwkv4_vulkan.cpp
// ... rwkv6_vulkan.cpp; pick by architecture with vulkan_backend.hpp).
//
//   WB_TRY(tf, wb::read_tensor_file(path));
//   WB_TRY(model, wb::vk::load_rwkv7_vulkan(tf, {.device_index = 0}));
//   wb::State s = model->new_state();
//   std::vector<float> logits(model->info().n_vocab);
//   WB_CHECK(model->prefill(tokens, s, logits));
//
// State layout (floats), per layer l of stride 2*C + H*N*N, the same as the CPU
// runtime's (cpu/rwkv7.cpp), so States move freely between backends:
//   [ffn token-shift x (C)] [att token-shift x (C)] [WKV state, H heads of N x N,
//   row i = value index, column j = key index].
// States are host values (wb::State); each call copies the states it is given
// into a device arena and back inside the same submit (2.4 MB per state for
// the 0.19B shape: about a millisecond of memcpy), so the model never holds
// hidden state.
//
// Weights: f32 and f16 tensors keep their type (or become f16 with
// `f16_weights`); Q8_0 runs natively; Q4_x/Q5_x/bf16 are dequantised at load
// to f32 (or f16 with `f16_weights`). The embedding stays in host memory (a
// row lookup per token), so it needs no device buffer however large it is.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/backend/vulkan/decode_tuner.hpp"
#include "core/backend/vulkan/vk_context.hpp"
#include "core/model/model.hpp"
#include "core/model/tensor_file.hpp"

namespace wb::vk {

// How RWKV-7 decode records the time mixing between the down-projections and the
// output projection: `off` four dependent dispatches (up-projection matmuls,
// rwkv7_prep, wkv7 recurrence, wkv7_out); `full` one (wkv7_step.comp does all);
// `partial` two (the up-projection matmuls, then wkv7_step for the rest).
enum class Fusion { automatic, off, full, partial };

// Whether RWKV-7 decode (1-8 states) lets the residual matmuls (output and FFN
// value projections) do the layer norm and token-shift mix that follows them in
// their last workgroup (matmul_tail_*.comp): 2 dependent steps fewer per layer
// but the last. Storage-buffer kernel path only. `automatic` is off until a GPU
// run shows it pays (scripts/device_run.sh); WB_VK_LN_TAIL=0|1 overrides it.
enum class Switch { automatic, off, on };

struct VulkanModelOptions {
  int device_index = -1;
  bool gpu_only = false;  // ContextOptions::gpu_only
  bool validation = false;   // VK_LAYER_KHRONOS_validation; errors counted in memory().validation_errors
  KernelPath kernels = KernelPath::automatic;  // matmul kernels: texel (CPU devices) or storage (GPUs)
  bool map_device_memory = true;  // false: never map device buffers (tests the discrete-GPU staging paths)
  bool f16_weights = false;  // store f32 / dequantised matrices as f16
  uint32_t max_chunk = 0;    // prefill tokens per submit; 0: 64 on CPU devices, 512 on GPUs
  uint32_t max_batch = 16;   // decode states per submit
  Fusion fused_decode = Fusion::automatic;  // automatic: see rwkv7_vulkan.cpp (WB_VK_FUSED=0|1|2 overrides)
  Switch layer_norm_tails = Switch::automatic;  // see Switch (WB_VK_LN_TAIL=0|1 overrides automatic)
  // RWKV-7 decode of one state with each layer as ONE dispatch of this many
  // persistent workgroups that meet at grid barriers (rwkv7_layer_*.comp): 1 dependent
  // step and 4 grid barriers per layer instead of 7 dispatches. Needs every workgroup
  // resident at once (about one per multiprocessor; rounded down to a power of two;
  // one on CPU devices, which cannot wait at a grid barrier, and there only up to the
  // 0.1B layer width: llvmpipe ends long shaders' loops), f16 or f32 weights
  // in one part each, the fused step's f32 LoRAs. 0: WB_VK_PERSIST=N, else off (not
  // yet measured on a GPU). On a device that does not run them at once, a waiting
  // workgroup gives up (never a hang); the call then leaves its state untouched,
  // runs again through the usual recording, and the kernel stays off (a warning
  // goes to `log`).
  // kPersistentAuto (WB_VK_PERSIST=auto): one per multiprocessor where the driver
  // tells their number (DeviceInfo::compute_units), else off.
  uint32_t persistent_groups = 0;
  static constexpr uint32_t kPersistentAuto = 0xffffffffu;
  // There, the LoRA up-projections as a phase of their own over every workgroup
  // instead of inside each head's (one grid barrier more; all LoRA widths % 8 == 0).
  // false: WB_VK_PERSIST_UP=1, else off.
  bool persistent_split_up = false;
  // Whether the model offers its one-state decode variants (RWKV-7: chain,
  // ln_tails, persistent, persistent_split_up) for build_vulkan_model to measure
  // and choose from (decode_tuner.hpp). automatic: on GPUs, and only while none
  // of the switches above is set (options or WB_VK_PERSIST / WB_VK_PERSIST_UP /
  // WB_VK_LN_TAIL): a choice made by hand is kept. WB_VK_TUNE=0|1 overrides automatic.
  Switch tune_decode = Switch::automatic;
  // Submit the last call's recording again when a call has the same shape and
  // states (every decode step of one story); WB_VK_REUSE=0 turns it off.
  bool reuse_recordings = true;
  Log* log = nullptr;
};

// Device memory in use, for `wb info --backend vulkan`.
struct VulkanMemory {
  uint64_t weights = 0, states = 0, scratch = 0;
  uint32_t validation_errors = 0;
  std::string device;
};

class VulkanModel : public Model {
 public:
  virtual VulkanMemory memory() const = 0;
  // Fault injection (tests): from now on the device behaves as lost, as after
  // VK_ERROR_DEVICE_LOST. Every later call returns an error; none aborts.
  virtual void inject_device_loss() = 0;
  // Fault injection (tests): the next call through RWKV-7's persistent decode
  // layer finds its grid barriers given up, as on a device that does not run
  // all its workgroups at once. That call must still succeed, through the usual
  // recording, from untouched states. false: that kernel is not in use.
  virtual bool inject_give_up() = 0;
  // Calls that submitted the previous call's recording again (reuse_recordings).
  virtual uint64_t reused_submits() const = 0;
  // The last recording's size: dispatches and barriers (its dependent steps).
  struct RecordingSize {
    uint32_t dispatches = 0, barriers = 0;
  };
  virtual RecordingSize last_recording() const = 0;
  // GB/s that a plain streaming read of `bytes` of the device's memory achieves
  // (read_bandwidth.hpp): the decode bound. Errc::unsupported on a CPU device,
  // whose memory is the host's (measure the host instead).
  virtual Result<double> read_bandwidth_gbs(uint64_t bytes) const = 0;

  // The ways this model can record a one-state decode step, when it offers a
  // choice (VulkanModelOptions::tune_decode); the first is the reference the
  // others must agree with. Fewer than two: nothing to choose.
  virtual std::vector<std::string> decode_variants() const = 0;
  // Records later decode steps the way `name` says (one of decode_variants(),
  // or the one in use). Errc::unsupported for any other.
  virtual Status use_decode_variant(std::string_view name) = 0;
  // The way in use now ("chain" where there is no other).
  virtual std::string decode_variant() const = 0;
  // The measurement that chose it, when one ran (build_vulkan_model).
  const DecodeTuning* decode_tuning() const { return tuning_ ? &*tuning_ : nullptr; }
  void set_decode_tuning(DecodeTuning t) { tuning_ = std::move(t); }

 private:
  std::optional<DecodeTuning> tuning_;
};

// Whether an RWKV-7 model loaded with `opt` offers its decode variants for
// measuring (VulkanModelOptions::tune_decode), on a GPU (`gpu`) or a CPU device.
bool offers_decode_variants(const VulkanModelOptions& opt, bool gpu);

// Reads the ModelInfo of an RWKV-7 tensor file (n_layer, C, V, heads, FFN).
Result<ModelInfo> rwkv7_info(const TensorFile& tf);

// Builds the model; `tf` must outlive it only for its data owners, which the
// model keeps (the embedding rows are read from the file map).
Result<std::unique_ptr<VulkanModel>> load_rwkv7_vulkan(const TensorFile& tf, const VulkanModelOptions& opt);

}  // namespace wb::vk
