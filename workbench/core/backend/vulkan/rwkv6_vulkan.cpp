// RWKV-6 "Finch" on the Vulkan backend (the equations of cpu/rwkv6.cpp):
// data-dependent token shift (a 5-way LoRA feeding kernels/token_mix_dd.comp)
// and data-dependent decay (a second LoRA, exponentiated inside kernels/wkv5.comp).
//
// State per layer (floats): [ffn shift C][att shift C][WKV H x N x N], as v5
// (S[h][i][j], i key, j value). Layer stride 2C + C·N.
//
// Conventions: official checkpoints use time_maa_w1 (C, 5D) and time_decay_w1
// (C, Dw) as x @ w1, time_decay_w2 (Dw, C) and time_maa_w2 (5, D, C); rwkv.cpp
// stores them transposed, time_maa_w2 as (5, C, D). The five mixes are in the
// order w, k, v, r, g.
#include <cmath>

#include "core/backend/vulkan/rwkv_vulkan.hpp"

namespace wb::vk {
namespace {

struct Layer6 {
  Buffer ln1_w, ln1_b;
  Buffer maa_x;  // C
  Buffer maa;    // 5C: time_maa_w, _k, _v, _r, _g
  Buffer wkv;    // 4C: time_decay (raw), time_faaaa, ln_x weight, ln_x bias
  DeviceMatrix maa_w1, maa_w2[5], decay_w1, decay_w2, wr, wk, wv, wo, wg;
  RkvFfn ffn;
};

class Rwkv6Vulkan final : public RwkvVulkan {
 public:
  using RwkvVulkan::RwkvVulkan;

 protected:
  Status load_layers(WeightLoader& L) override;
  Status record_layer(uint32_t l, uint32_t T, uint32_t n_seq) override;
  size_t layer_stride() const override { return 2 * size_t{C_} + size_t{C_} * N_; }
  uint32_t mix_slots() const override { return 5; }

 private:
  uint32_t N_ = 0, D_ = 0, Dw_ = 0;
  std::vector<Layer6> layers_;
  Buffer xxx_, lo_, delta_, lo_w_, wd_, k_, v_, r_, g_, att_;
};

Status Rwkv6Vulkan::load_layers(WeightLoader& L) {
  const TensorFile& tf = L.file();
  const bool cpp = tf.convention == ValueConvention::rwkv_cpp;
  N_ = static_cast<uint32_t>(info_.head_size);
  const int64_t C = C_;
  WB_TRY(w1, L.need("blocks.0.att.time_maa_w1"));
  if (w1->shape.size() != 2) return make_error(Errc::format, "{}: time_maa_w1 should be 2-D", tf.path);
  const int64_t d5 = cpp ? w1->shape[0] : w1->shape[1];
  if (d5 <= 0 || d5 % 5 != 0 || d5 > (1 << 16))
    return make_error(Errc::format, "{}: time_maa_w1 width {} is not 5 x the mix LoRA size", tf.path, d5);
  D_ = static_cast<uint32_t>(d5 / 5);
  if (D_ % 8 != 0)  // the matmul kernels read LoRA slices in whole 8-float steps
    return make_error(Errc::unsupported, "{}: mix LoRA size {} is not a multiple of 8 (Vulkan kernels)", tf.path, D_);
  static const char* kMaa[5] = {"w", "k", "v", "r", "g"};
  for (int i = 0; i < info_.n_layer; ++i) {
    const std::string p = fmt::format("blocks.{}.att.", i);
    Layer6 y;
    WB_TRY(a, L.vec_buffer(fmt::format("blocks.{}.ln1.weight", i), C_));
    WB_TRY(b, L.vec_buffer(fmt::format("blocks.{}.ln1.bias", i), C_));
    y.ln1_w = std::move(a), y.ln1_b = std::move(b);
    WB_TRY(mx, L.vec_buffer(p + "time_maa_x", C_));
    y.maa_x = std::move(mx);
    std::vector<float> maa;
    for (const char* n : kMaa) {
      WB_TRY(m, L.vec(p + "time_maa_" + n, C_));
      maa.insert(maa.end(), m.begin(), m.end());
    }
    WB_TRY(mb, upload_floats(*ctx_, maa));
    y.maa = std::move(mb);

    // The mix LoRA: W1 (5D, C); W2 slices (C, D).
    if (cpp) {
      WB_TRY(m1, L.matrix(p + "time_maa_w1", 5 * D_, C));
      y.maa_w1 = std::move(m1);
    } else {
      WB_TRY(m1, L.matrix_transposed(p + "time_maa_w1", 5 * D_, C));
      y.maa_w1 = std::move(m1);
    }
    WB_TRY(w2t, L.need(p + "time_maa_w2"));
    WB_TRY(w2, L.vec(p + "time_maa_w2", 5 * uint64_t{D_} * C_));
    for (uint32_t j = 0; j < 5; ++j) {
      const float* s = w2.data() + size_t{j} * D_ * C_;
      std::vector<float> slice(size_t{C_} * D_);
      for (uint32_t c = 0; c < C_; ++c)
        for (uint32_t d = 0; d < D_; ++d)
          slice[size_t{c} * D_ + d] = cpp ? s[size_t{c} * D_ + d] : s[size_t{d} * C_ + c];
      WB_TRY(m2, L.matrix_from(slice, C_, D_, w2t->dtype));
      y.maa_w2[j] = std::move(m2);
    }
    // The decay LoRA: W1 (Dw, C), W2 (C, Dw).
    WB_TRY(dw1, L.need(p + "time_decay_w1"));
    if (dw1->shape.size() != 2) return make_error(Errc::format, "{}: {}time_decay_w1 should be 2-D", tf.path, p);
    const int64_t dw = cpp ? dw1->shape[0] : dw1->shape[1];
    if (dw <= 0 || dw % 8 != 0 || (Dw_ && dw != Dw_))
      return make_error(Errc::unsupported, "{}: {}time_decay_w1 LoRA size {} (Vulkan kernels need a multiple of 8, "
                        "the same in every layer)", tf.path, p, dw);
    Dw_ = static_cast<uint32_t>(dw);
    if (cpp) {
      WB_TRY(d1, L.matrix(p + "time_decay_w1", dw, C));
      WB_TRY(d2, L.matrix(p + "time_decay_w2", C, dw));
      y.decay_w1 = std::move(d1), y.decay_w2 = std::move(d2);
    } else {
      WB_TRY(d1, L.matrix_transposed(p + "time_decay_w1", dw, C));
      WB_TRY(d2, L.matrix_transposed(p + "time_decay_w2", C, dw));
      y.decay_w1 = std::move(d1), y.decay_w2 = std::move(d2);
    }
    std::vector<float> params;
    for (const char* n : {"time_decay", "time_faaaa", "ln_x.weight", "ln_x.bias"}) {
      WB_TRY(m, L.vec(p + n, C_));
      params.insert(params.end(), m.begin(), m.end());
    }
    WB_TRY(pb, upload_floats(*ctx_, params));
    y.wkv = std::move(pb);
    WB_TRY(wr, L.matrix(p + "receptance.weight", C, C));
    WB_TRY(wk, L.matrix(p + "key.weight", C, C));
    WB_TRY(wv, L.matrix(p + "value.weight", C, C));
    WB_TRY(wo, L.matrix(p + "output.weight", C, C));
    WB_TRY(wg, L.matrix(p + "gate.weight", C, C));
    y.wr = std::move(wr), y.wk = std::move(wk), y.wv = std::move(wv), y.wo = std::move(wo), y.wg = std::move(wg);
    WB_TRY(ffn, load_rkv_ffn(L, i, true));
    y.ffn = std::move(ffn);
    layers_.push_back(std::move(y));
  }
  for (Buffer* b : {&xxx_, &wd_, &k_, &v_, &r_, &g_, &att_}) WB_CHECK(scratch(vec_bytes(C_), *b));
  WB_CHECK(scratch(vec_bytes(5 * D_), lo_));
  WB_CHECK(scratch(vec_bytes(5 * C_), delta_));
  WB_CHECK(scratch(vec_bytes(Dw_), lo_w_));
  return {};
}

Status Rwkv6Vulkan::record_layer(uint32_t l, uint32_t T, uint32_t n_seq) {
  const Layer6& y = layers_[l];
  const uint32_t C = C_, n = T * n_seq, nC = n * C, base = layer_base(l), D = D_;
  const uint32_t slot = static_cast<uint32_t>(state_floats());
  auto& o = ops_;
  WB_CHECK(o.layer_norm(cs_, x_, 0, C, xln_, 0, C, y.ln1_w, y.ln1_b, C, n, kLayerNormEps));
  // Five mix offsets from one shared LoRA: tanh(W1 xxx) split in 5 x D, each through its W2.
  WB_CHECK(o.token_mix(cs_, xln_, *state_buf_, y.maa_x, xxx_, {C, n, T, 1, base + C, slot}));
  WB_CHECK(o.matmul(cs_, y.maa_w1, xxx_, 0, C, lo_, 0, 5 * D, n, Act::tanh));
  cs_.begin_independent();  // five up-projections into their own slots of delta_
  for (uint32_t j = 0; j < 5; ++j) WB_CHECK(o.matmul(cs_, y.maa_w2[j], lo_, j * D, 5 * D, delta_, j * nC, C, n));
  cs_.end_independent();
  WB_CHECK(o.token_mix_dd(cs_, xln_, *state_buf_, y.maa, delta_, xmix_, {C, n, T, 5, base + C, slot}));
  // The shift copies (after token_mix_dd, which reads the old shift) and every
  // product of the mixes: one group. xmix_ slots: 0 w, 1 k, 2 v, 3 r, 4 g.
  cs_.begin_independent();
  WB_CHECK(save_shift(xln_, base + C, T, n_seq));
  WB_CHECK(o.matmul(cs_, y.wr, xmix_, 3 * nC, C, r_, 0, C, n));
  WB_CHECK(o.matmul(cs_, y.wk, xmix_, 1 * nC, C, k_, 0, C, n));
  WB_CHECK(o.matmul(cs_, y.wv, xmix_, 2 * nC, C, v_, 0, C, n));
  WB_CHECK(o.matmul(cs_, y.wg, xmix_, 4 * nC, C, g_, 0, C, n));
  WB_CHECK(o.matmul(cs_, y.decay_w1, xmix_, 0, C, lo_w_, 0, Dw_, n, Act::tanh));
  cs_.end_independent();
  WB_CHECK(o.matmul(cs_, y.decay_w2, lo_w_, 0, Dw_, wd_, 0, C, n));
  const Buffer* bufs[8] = {&r_, &k_, &v_, &wd_, &g_, state_buf_, &y.wkv, &att_};
  const Wkv5Push push{C, N_, T, base + 2 * C, slot, info_.group_norm_eps, kWkv5DataDecay | kWkv5Gate, 0};
  WB_CHECK(o.wkv5(cs_, bufs, push, n_seq));
  WB_CHECK(o.matmul(cs_, y.wo, att_, 0, C, x_, 0, C, n, Act::none, true));
  return record_rkv_ffn(y.ffn, l, T, n_seq);
}

}  // namespace

Result<std::unique_ptr<VulkanModel>> load_rwkv6_vulkan(const TensorFile& tf, const VulkanModelOptions& opt) {
  WB_TRY(info, common_info(tf, Arch::v6));
  const TensorView* u = tf.find("blocks.0.att.time_faaaa");
  const int64_t H = u && !u->shape.empty() ? u->shape[0] : 0;
  if (H <= 0 || info.n_embd % H != 0 || H == info.n_embd || u->numel() != static_cast<uint64_t>(info.n_embd))
    return make_error(Errc::format, "{}: cannot infer heads from blocks.0.att.time_faaaa (shape starts {}, n_embd {})",
                      tf.path, H, info.n_embd);
  info.n_head = static_cast<int>(H);
  info.head_size = static_cast<int>(info.n_embd / H);
  if (info.head_size > 64)
    return make_error(Errc::unsupported, "{}: head size {} is beyond the Vulkan WKV kernel's 64", tf.path,
                      info.head_size);
  info.group_norm_eps = 64e-5f;
  WB_TRY(ctx, make_context(opt));
  auto m = std::make_unique<Rwkv6Vulkan>(std::move(ctx), std::move(info), opt);
  WB_CHECK(m->load(tf));
  return std::unique_ptr<VulkanModel>(std::move(m));
}

}  // namespace wb::vk
