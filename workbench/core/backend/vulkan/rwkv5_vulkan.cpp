// RWKV-5 on the Vulkan backend: 5.1 (ln_x, no gate, one decay per head) and 5.2
// (gate, per-channel decay and bonus), the equations of cpu/rwkv5.cpp. The WKV
// step, the per-head group norm and the gate run fused in kernels/wkv5.comp.
//
// State per layer (floats): [ffn shift C][att shift C][WKV H x N x N], head h's
// matrix as S[i][j] with i the key index, j the value index (the CPU runtime's
// and rwkv.cpp's layout). Layer stride 2C + C·N.
//
// Conventions: rwkv.cpp stores time_decay as exp(-exp(w)) and 5.1's time_first
// as exp(u); official checkpoints store w and u. Group-norm epsilon: 1e-5 for
// rwkv.cpp files, 64e-5 otherwise (fixtures README §7).
#include <cmath>

#include "core/backend/vulkan/rwkv_vulkan.hpp"

namespace wb::vk {
namespace {

struct Layer5 {
  Buffer ln1_w, ln1_b;
  Buffer mix;  // 3C or 4C: 1 - time_mix_k, _v, _r (, _g)
  Buffer wkv;  // 4C: decay exp(-exp(w)), bonus, ln_x weight, ln_x bias
  DeviceMatrix wk, wv, wr, wo, wg;
  RkvFfn ffn;
};

class Rwkv5Vulkan final : public RwkvVulkan {
 public:
  Rwkv5Vulkan(std::shared_ptr<Context> ctx, ModelInfo info, const VulkanModelOptions& opt)
      : RwkvVulkan(std::move(ctx), std::move(info), opt), gate_(info_.arch == Arch::v5_2) {}

 protected:
  Status load_layers(WeightLoader& L) override;
  Status record_layer(uint32_t l, uint32_t T, uint32_t n_seq) override;
  size_t layer_stride() const override { return 2 * size_t{C_} + size_t{C_} * N_; }
  uint32_t mix_slots() const override { return gate_ ? 4 : 3; }

 private:
  Result<std::vector<float>> per_channel(WeightLoader& L, const std::string& name) const;
  bool gate_;
  uint32_t H_ = 0, N_ = 0;
  std::vector<Layer5> layers_;
  Buffer k_, v_, r_, g_, att_;
};

// A per-head (H values) or per-channel (C values) parameter, as C values.
Result<std::vector<float>> Rwkv5Vulkan::per_channel(WeightLoader& L, const std::string& name) const {
  WB_TRY(t, L.need(name));
  if (t->numel() == C_) return L.vec(name, C_);
  WB_TRY(h, L.vec(name, H_));
  std::vector<float> c(C_);
  for (uint32_t i = 0; i < C_; ++i) c[i] = h[i / N_];
  return c;
}

Status Rwkv5Vulkan::load_layers(WeightLoader& L) {
  const TensorFile& tf = L.file();
  const bool cpp = tf.convention == ValueConvention::rwkv_cpp;
  H_ = static_cast<uint32_t>(info_.n_head);
  N_ = static_cast<uint32_t>(info_.head_size);
  const int64_t C = C_;
  for (int i = 0; i < info_.n_layer; ++i) {
    const std::string p = fmt::format("blocks.{}.", i);
    Layer5 y;
    WB_TRY(a, L.vec_buffer(p + "ln1.weight", C_));
    WB_TRY(b, L.vec_buffer(p + "ln1.bias", C_));
    y.ln1_w = std::move(a), y.ln1_b = std::move(b);
    std::vector<float> mix;
    for (const char* n : {"att.time_mix_k", "att.time_mix_v", "att.time_mix_r", "att.time_mix_g"}) {
      if (!gate_ && std::string(n) == "att.time_mix_g") break;
      WB_TRY(m, L.vec(p + n, C_));
      for (float t : m) mix.push_back(1.0f - t);
    }
    WB_TRY(mb, upload_floats(*ctx_, mix));
    y.mix = std::move(mb);
    WB_TRY(decay, per_channel(L, p + "att.time_decay"));
    if (!cpp)
      for (float& t : decay) t = std::exp(-std::exp(t));
    std::vector<float> params = std::move(decay);
    if (gate_) {
      WB_TRY(u, per_channel(L, p + "att.time_faaaa"));
      params.insert(params.end(), u.begin(), u.end());
    } else {
      WB_TRY(u, per_channel(L, p + "att.time_first"));
      if (!cpp)  // 5.0/5.1 use exp(time_first) as the bonus; rwkv.cpp stored it so
        for (float& t : u) t = std::exp(t);
      params.insert(params.end(), u.begin(), u.end());
    }
    for (const char* n : {"att.ln_x.weight", "att.ln_x.bias"}) {
      WB_TRY(m, L.vec(p + n, C_));
      params.insert(params.end(), m.begin(), m.end());
    }
    WB_TRY(pb, upload_floats(*ctx_, params));
    y.wkv = std::move(pb);
    WB_TRY(wk, L.matrix(p + "att.key.weight", C, C));
    WB_TRY(wv, L.matrix(p + "att.value.weight", C, C));
    WB_TRY(wr, L.matrix(p + "att.receptance.weight", C, C));
    WB_TRY(wo, L.matrix(p + "att.output.weight", C, C));
    y.wk = std::move(wk), y.wv = std::move(wv), y.wr = std::move(wr), y.wo = std::move(wo);
    if (gate_) {
      WB_TRY(wg, L.matrix(p + "att.gate.weight", C, C));
      y.wg = std::move(wg);
    }
    WB_TRY(ffn, load_rkv_ffn(L, i, false));
    y.ffn = std::move(ffn);
    layers_.push_back(std::move(y));
  }
  for (Buffer* b : {&k_, &v_, &r_, &g_, &att_}) WB_CHECK(scratch(vec_bytes(C_), *b));
  return {};
}

Status Rwkv5Vulkan::record_layer(uint32_t l, uint32_t T, uint32_t n_seq) {
  const Layer5& y = layers_[l];
  const uint32_t C = C_, n = T * n_seq, nC = n * C, base = layer_base(l);
  const uint32_t slot = static_cast<uint32_t>(state_floats());
  WB_CHECK(norm_mix(y.ln1_w, y.ln1_b, y.mix, mix_slots(), base + C, T, n_seq));
  cs_.begin_independent();  // the projections read the same mix: no barriers between them
  WB_CHECK(norm_shift_copies(base + C, T, n_seq));
  WB_CHECK(ops_.matmul(cs_, y.wk, xmix_, 0, C, k_, 0, C, n));
  WB_CHECK(ops_.matmul(cs_, y.wv, xmix_, nC, C, v_, 0, C, n));
  WB_CHECK(ops_.matmul(cs_, y.wr, xmix_, 2 * nC, C, r_, 0, C, n));
  if (gate_) WB_CHECK(ops_.matmul(cs_, y.wg, xmix_, 3 * nC, C, g_, 0, C, n));
  cs_.end_independent();
  const Buffer* bufs[8] = {&r_, &k_, &v_, &k_ /* no decay LoRA */, &g_, state_buf_, &y.wkv, &att_};
  const Wkv5Push push{C, N_, T, base + 2 * C, slot, info_.group_norm_eps, gate_ ? uint32_t{kWkv5Gate} : 0u, 0};
  WB_CHECK(ops_.wkv5(cs_, bufs, push, n_seq));
  WB_CHECK(ops_.matmul(cs_, y.wo, att_, 0, C, x_, 0, C, n, Act::none, true));
  return record_rkv_ffn(y.ffn, l, T, n_seq);
}

}  // namespace

Result<std::unique_ptr<VulkanModel>> load_rwkv5_vulkan(const TensorFile& tf, const VulkanModelOptions& opt,
                                                       Arch arch) {
  if (arch != Arch::v5_1 && arch != Arch::v5_2) return make_error(Errc::internal, "load_rwkv5_vulkan: not RWKV-5");
  WB_TRY(info, common_info(tf, arch));
  const TensorView* td = tf.find("blocks.0.att.time_decay");
  const int64_t H = td && !td->shape.empty() ? td->shape[0] : 0;
  if (H <= 0 || info.n_embd % H != 0 || H == info.n_embd)
    return make_error(Errc::format, "{}: cannot infer heads from blocks.0.att.time_decay (first dim {}, n_embd {})",
                      tf.path, H, info.n_embd);
  info.n_head = static_cast<int>(H);
  info.head_size = static_cast<int>(info.n_embd / H);
  if (info.head_size > 64)
    return make_error(Errc::unsupported, "{}: head size {} is beyond the Vulkan WKV kernel's 64", tf.path,
                      info.head_size);
  info.group_norm_eps = tf.convention == ValueConvention::rwkv_cpp ? 1e-5f : 64e-5f;
  WB_TRY(ctx, make_context(opt));
  auto m = std::make_unique<Rwkv5Vulkan>(std::move(ctx), std::move(info), opt);
  WB_CHECK(m->load(tf));
  return std::unique_ptr<VulkanModel>(std::move(m));
}

}  // namespace wb::vk
