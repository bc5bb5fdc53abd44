// The machinery every RWKV version shares on the Vulkan backend (one subclass
// per version in rwkv4_vulkan.cpp ... rwkv7_vulkan.cpp, like the CPU runtime):
// weight loading helpers, the embedding (host rows), ln0 / ln_out / head, the
// state arena, scratch, chunked prefill and batched decode, each call recorded
// into one command buffer and submitted once.
//
//   class Rwkv5Vulkan final : public RwkvVulkan {
//     Status load_layers(WeightLoader& L) override;              // weights + scratch
//     Status record_layer(uint32_t l, uint32_t T, uint32_t n_seq) override;
//     size_t layer_stride() const override;                        // the CPU's state layout
//   };
//   auto m = std::make_unique<Rwkv5Vulkan>(...); WB_CHECK(m->load(tf));
//
// Activations: n = T * n_seq vectors of C floats, sequence-major (vector v is
// token v % T of sequence v / T). Prefill runs one sequence of up to max_chunk
// tokens, decode up to max_batch sequences of one token.
//
// States live on the device: the first call on a State uploads it into a slot
// of the model's StatePool and attaches that slot to it (State::attach_store);
// each call copies the slots of its states into a contiguous arena and back
// with device copies, never through the host.
// Copying a State copies its slot on the device; data() reads it back only
// when someone asks (state tree snapshots, saving, the CPU backend).
#pragma once
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/backend/vulkan/rwkv7_vulkan.hpp"
#include "core/backend/vulkan/vk_ops.hpp"

namespace wb::vk {

constexpr float kLayerNormEps = 1e-5f;  // layer norms (PyTorch default)

// Reads tensors by name for the device, checking element counts and shapes;
// every error names the file and the tensor.
class WeightLoader {
 public:
  WeightLoader(Context& ctx, const TensorFile& tf, const VulkanModelOptions& opt) : ctx_(ctx), tf_(tf), opt_(opt) {}

  const TensorFile& file() const { return tf_; }
  bool has(const std::string& name) const { return tf_.find(name) != nullptr; }
  Result<const TensorView*> need(const std::string& name) const;
  // All elements as f32; `n` must match (any shape: converters squeeze or add unit dimensions).
  Result<std::vector<float>> vec(const std::string& name, uint64_t n) const;
  Result<Buffer> vec_buffer(const std::string& name, uint64_t n) const;
  // A (out, in) matrix used as y = W x, uploaded in its own type where the kernels have one.
  Result<DeviceMatrix> matrix(const std::string& name, int64_t out, int64_t in) const;
  // Host f32 data as a (rows, cols) matrix: f16 when the source was f16 or
  // `f16_weights` asks for it, else f32 (transposed or sliced LoRA matrices).
  // `as`: this storage type instead (the fused decode step reads f32 LoRAs).
  Result<DeviceMatrix> matrix_from(std::span<const float> data, int64_t rows, int64_t cols, DType source,
                                   std::optional<WeightType> as = std::nullopt) const;
  // A matrix stored as (in, out) (PyTorch's x @ W), transposed to (out, in).
  Result<DeviceMatrix> matrix_transposed(const std::string& name, int64_t out, int64_t in,
                                         std::optional<WeightType> as = std::nullopt) const;

 private:
  Context& ctx_;
  const TensorFile& tf_;
  const VulkanModelOptions& opt_;
};

// ModelInfo fields every version shares: sizes, format, params, dtype, model key.
Result<ModelInfo> common_info(const TensorFile& tf, Arch arch);

// The Vulkan context a model runs on (device choice, validation, kernel path).
Result<std::unique_ptr<Context>> make_context(const VulkanModelOptions& opt);

// The v4/v5/v6 channel mixing: x += sigmoid(Wr xr) * (Wv relu(Wk xk)^2),
// xk / xr the token-shift lerps of LN2(x) (mix holds 1 - time_mix for v4/v5, time_maa for v6).
struct RkvFfn {
  Buffer ln_w, ln_b, mix;  // mix: 2C (k, r)
  DeviceMatrix key, value, receptance;
};

class StatePool;

class RwkvVulkan : public VulkanModel {
 public:
  RwkvVulkan(std::shared_ptr<Context> ctx, ModelInfo info, const VulkanModelOptions& opt);

  const ModelInfo& info() const override { return info_; }
  std::string_view backend() const override { return "vulkan"; }
  State new_state() const override;
  VulkanMemory memory() const override;
  void inject_device_loss() override { ctx_->inject_device_loss(); }
  Result<double> read_bandwidth_gbs(uint64_t bytes) const override;
  bool inject_give_up() override { return false; }
  uint64_t reused_submits() const override { return reused_; }
  RecordingSize last_recording() const override { return last_recording_; }
  Status prefill(std::span<const int32_t> tokens, State& state, std::span<float> logits) override;
  Status decode(std::span<const int32_t> tokens, std::span<State* const> states, std::span<float> logits) override;
  std::vector<std::string> decode_variants() const override;
  Status use_decode_variant(std::string_view name) override;
  std::string decode_variant() const override;

  // Reads the common tensors, calls load_layers, allocates the arena and scratch.
  Status load(const TensorFile& tf);

 protected:
  // Per-version weights (and any scratch beyond the common buffers below).
  virtual Status load_layers(WeightLoader& L) = 0;
  // Records block l (time mixing + channel mixing) on x_ for n_seq sequences of T tokens.
  virtual Status record_layer(uint32_t l, uint32_t T, uint32_t n_seq) = 0;
  // State floats per layer, laid out as the CPU runtime's (States move between backends).
  virtual size_t layer_stride() const = 0;
  // Token-shift mixes the version needs at once in xmix_ (v7: 6).
  virtual uint32_t mix_slots() const = 0;
  virtual void init_state(State&) const {}

  size_t state_floats() const { return static_cast<size_t>(info_.n_layer) * layer_stride(); }
  // A device buffer of `bytes` (scratch).
  Status scratch(uint64_t bytes, Buffer& b);
  // Bytes of max_vec_ vectors of `width` floats (set before load_layers runs).
  uint64_t vec_bytes(uint32_t width) const { return uint64_t{max_vec_} * width * 4; }
  // Float offset of layer l's state of sequence 0 in *state_buf_ (sequence s
  // adds s * state_floats(): the arena's stride).
  uint32_t layer_base(uint32_t l) const { return state_base_ + static_cast<uint32_t>(l * layer_stride()); }
  // Copies each sequence's last vector of `src` (n_seq x T x C) into its state at `off`.
  Status save_shift(const Buffer& src, uint32_t off, uint32_t T, uint32_t n_seq);
  // Layer norm of x_ and the token-shift mix into xmix_ (n_mix slots of `mix`),
  // advancing the shift state at `shift`: one dispatch for single tokens
  // (ln_mix_shift); for sequences layer_norm and token_mix, and the shift state
  // is advanced by norm_shift_copies, which the caller records in its next group
  // of independent dispatches (the copies read xln_ and write the state, which
  // the projections there do not touch): one dependent step fewer.
  Status norm_mix(const Buffer& lw, const Buffer& lb, const Buffer& mix, uint32_t n_mix, uint32_t shift, uint32_t T,
                  uint32_t n_seq);
  // The rest of norm_mix for sequences: save_shift(xln_, shift, ...); nothing
  // for single tokens, whose ln_mix_shift advanced the state itself.
  Status norm_shift_copies(uint32_t shift, uint32_t T, uint32_t n_seq);
  // Reads meta["rescale_every_n_layers"] and meta["group_norm_eps"] (GGUF / HF conversions).
  Status read_meta_overrides(const TensorFile& tf);

  // The decode variants (see VulkanModel): those offered, a switch to one
  // (the caller forgets the last recording), the one in use. Under mu_.
  virtual std::vector<std::string> offered_variants() const { return {}; }
  virtual Status switch_variant(std::string_view name);
  virtual std::string active_variant() const { return "chain"; }

  // Where a call of this shape may give up midway on the device (RWKV-7's
  // persistent decode layer, when a grid barrier waited too long): a buffer
  // whose word 1 is then not 0. The call then scatters its states back only while
  // that word is 0, and run() reads it: when set, it calls gave_up() and runs
  // the call again from the untouched states. nullptr: nothing can give up.
  virtual const Buffer* give_up_flag(uint32_t /*T*/, uint32_t /*n_seq*/) const { return nullptr; }
  // The flag was set: turn off what set it (give_up_flag() is nullptr from now on).
  virtual void gave_up() {}

  Result<RkvFfn> load_rkv_ffn(WeightLoader& L, int layer, bool v6_names);
  Status record_rkv_ffn(const RkvFfn& f, uint32_t l, uint32_t T, uint32_t n_seq);

  std::shared_ptr<Context> ctx_;
  Ops ops_;
  CommandStream cs_;
  ModelInfo info_;
  VulkanModelOptions opt_;
  uint32_t C_ = 0, F_ = 0, chunk_ = 0, batch_ = 0, max_vec_ = 0;
  int rescale_every_ = 0;

  // Common scratch, max_vec_ vectors each: the residual stream, a normalised
  // copy, the token-shift mixes (mix_slots() x C per vector), FFN hidden (F)
  // and two C-wide temporaries the FFN uses (free for time mixing too).
  Buffer x_, xln_, xmix_, ffk_, tmp_a_, tmp_b_;
  // Where the states of the call being recorded are (the arena; sequence s at
  // state_base_ + s * state_floats()).
  const Buffer* state_buf_ = nullptr;
  uint32_t state_base_ = 0;

 private:
  Status check_state(const State& s) const;
  Status check_logits(std::span<float> logits, size_t n) const;
  Status embed(std::span<const int32_t> tokens, float* dst) const;
  Status run(std::span<const int32_t> tokens, uint32_t T, std::span<State* const> states, std::span<float> logits);
  Status record_and_submit(uint32_t T, std::span<State* const> states, bool want_logits);

  // Makes each State resident in this model's pool (uploading host-only ones).
  Status make_resident(std::span<State* const> states);

  mutable std::mutex mu_;
  uint64_t weight_bytes_ = 0;
  TensorView emb_;
  std::vector<std::shared_ptr<const void>> owners_;  // keep the embedding's file map alive
  Buffer ln0_w_, ln0_b_, lnout_w_, lnout_b_;
  DeviceMatrix head_;
  Buffer in_, logits_;
  Buffer give_up_host_;      // word 0: the last call's give_up_flag word, copied back (host-visible)
  Buffer state_arena_;  // batch_ contiguous state slots for batched decode
  std::shared_ptr<StatePool> pool_;
  // Reused recordings (see run()), and the key of cs_'s last one.
  bool reuse_recordings_ = true;
  std::vector<uint64_t> recorded_key_;
  uint64_t reused_ = 0;
  RecordingSize last_recording_;
};

// Per-version builders (rwkv4_vulkan.cpp ... rwkv7_vulkan.cpp).
Result<std::unique_ptr<VulkanModel>> load_rwkv4_vulkan(const TensorFile& tf, const VulkanModelOptions& opt);
Result<std::unique_ptr<VulkanModel>> load_rwkv5_vulkan(const TensorFile& tf, const VulkanModelOptions& opt,
                                                       Arch arch);
Result<std::unique_ptr<VulkanModel>> load_rwkv6_vulkan(const TensorFile& tf, const VulkanModelOptions& opt);

}  // namespace wb::vk
