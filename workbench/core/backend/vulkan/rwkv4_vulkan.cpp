// RWKV-4 on the Vulkan backend (the equations of cpu/rwkv4.cpp; the WKV runs in
// kernels/wkv4.comp with the running max exponent).
//
// State per layer (floats, the CPU runtime's and rwkv.cpp's order): [ffn shift C]
// [att shift C][aa C][bb C][pp C]; pp starts at -1e30. Layer stride 5C.
//
// Conventions: rwkv.cpp stores time_decay as -exp(w); official checkpoints
// store w itself. time_first is raw in both.
#include <cmath>

#include "core/backend/vulkan/rwkv_vulkan.hpp"

namespace wb::vk {
namespace {

struct Layer4 {
  Buffer ln1_w, ln1_b;
  Buffer mix;  // 3C: 1 - time_mix_k, _v, _r
  Buffer wkv;  // 2C: w (-exp(time_decay)), u (time_first)
  DeviceMatrix wk, wv, wr, wo;
  RkvFfn ffn;
};

class Rwkv4Vulkan final : public RwkvVulkan {
 public:
  using RwkvVulkan::RwkvVulkan;

 protected:
  Status load_layers(WeightLoader& L) override;
  Status record_layer(uint32_t l, uint32_t T, uint32_t n_seq) override;
  size_t layer_stride() const override { return 5 * size_t{C_}; }
  uint32_t mix_slots() const override { return 3; }
  void init_state(State& s) const override {
    for (int l = 0; l < info_.n_layer; ++l)
      std::fill_n(s.data().data() + l * layer_stride() + 4 * size_t{C_}, C_, -1e30f);
  }

 private:
  std::vector<Layer4> layers_;
  Buffer k_, v_, r_, att_;
};

Status Rwkv4Vulkan::load_layers(WeightLoader& L) {
  const bool official = L.file().convention == ValueConvention::official;
  const int64_t C = C_;
  for (int i = 0; i < info_.n_layer; ++i) {
    const std::string p = fmt::format("blocks.{}.", i);
    Layer4 y;
    WB_TRY(a, L.vec_buffer(p + "ln1.weight", C_));
    WB_TRY(b, L.vec_buffer(p + "ln1.bias", C_));
    y.ln1_w = std::move(a), y.ln1_b = std::move(b);
    std::vector<float> mix;
    for (const char* n : {"att.time_mix_k", "att.time_mix_v", "att.time_mix_r"}) {
      WB_TRY(m, L.vec(p + n, C_));
      for (float t : m) mix.push_back(1.0f - t);
    }
    WB_TRY(mb, upload_floats(*ctx_, mix));
    y.mix = std::move(mb);
    WB_TRY(decay, L.vec(p + "att.time_decay", C_));
    WB_TRY(first, L.vec(p + "att.time_first", C_));
    if (official)
      for (float& t : decay) t = -std::exp(t);
    decay.insert(decay.end(), first.begin(), first.end());
    WB_TRY(wb, upload_floats(*ctx_, decay));
    y.wkv = std::move(wb);
    WB_TRY(wk, L.matrix(p + "att.key.weight", C, C));
    WB_TRY(wv, L.matrix(p + "att.value.weight", C, C));
    WB_TRY(wr, L.matrix(p + "att.receptance.weight", C, C));
    WB_TRY(wo, L.matrix(p + "att.output.weight", C, C));
    y.wk = std::move(wk), y.wv = std::move(wv), y.wr = std::move(wr), y.wo = std::move(wo);
    WB_TRY(ffn, load_rkv_ffn(L, i, false));
    y.ffn = std::move(ffn);
    layers_.push_back(std::move(y));
  }
  for (Buffer* b : {&k_, &v_, &r_, &att_}) WB_CHECK(scratch(vec_bytes(C_), *b));
  return {};
}

Status Rwkv4Vulkan::record_layer(uint32_t l, uint32_t T, uint32_t n_seq) {
  const Layer4& y = layers_[l];
  const uint32_t C = C_, n = T * n_seq, nC = n * C, base = layer_base(l);
  const uint32_t slot = static_cast<uint32_t>(state_floats());
  WB_CHECK(norm_mix(y.ln1_w, y.ln1_b, y.mix, 3, base + C, T, n_seq));
  cs_.begin_independent();  // the projections read the same mix: no barriers between them
  WB_CHECK(norm_shift_copies(base + C, T, n_seq));
  WB_CHECK(ops_.matmul(cs_, y.wk, xmix_, 0, C, k_, 0, C, n));
  WB_CHECK(ops_.matmul(cs_, y.wv, xmix_, nC, C, v_, 0, C, n));
  WB_CHECK(ops_.matmul(cs_, y.wr, xmix_, 2 * nC, C, r_, 0, C, n));
  cs_.end_independent();
  const Buffer* bufs[6] = {&k_, &v_, &r_, state_buf_, &y.wkv, &att_};
  WB_CHECK(ops_.wkv4(cs_, bufs, {C, T, base + 2 * C, slot}, n_seq));
  WB_CHECK(ops_.matmul(cs_, y.wo, att_, 0, C, x_, 0, C, n, Act::none, true));
  return record_rkv_ffn(y.ffn, l, T, n_seq);
}

}  // namespace

Result<std::unique_ptr<VulkanModel>> load_rwkv4_vulkan(const TensorFile& tf, const VulkanModelOptions& opt) {
  WB_TRY(info, common_info(tf, Arch::v4));
  info.group_norm_eps = 64e-5f;  // unused by v4; as the CPU runtime reports it
  WB_TRY(ctx, make_context(opt));
  auto m = std::make_unique<Rwkv4Vulkan>(std::move(ctx), std::move(info), opt);
  WB_CHECK(m->load(tf));
  return std::unique_ptr<VulkanModel>(std::move(m));
}

}  // namespace wb::vk
