#include "core/backend/vulkan/rwkv7_vulkan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "core/backend/vulkan/rwkv_vulkan.hpp"
#include "core/util/log.hpp"

namespace wb::vk {
namespace {

constexpr float kLnXEps = 64e-5f;    // v7 ln_x group norm (BlinkDL and rwkv.cpp agree)
// State layout shared with the CPU runtime (cpu/rwkv7.cpp), in units of C per layer.
constexpr uint32_t kFfnShift = 0, kAttShift = 1;

struct Layer {
  Buffer ln1_w, ln1_b, ln2_w, ln2_b;
  Buffer att_mix;     // 6*C: x_r, x_w, x_k, x_v, x_a, x_g
  Buffer prep;        // 5*C: w0, a0, v0, k_k, k_a
  Buffer wkv;         // 3*C: r_k, ln_x weight, ln_x bias
  Buffer ffn_mix;     // C
  Buffer persist;     // 19*C: the small parameters as rwkv7_layer_*.comp reads them (persistent decode only)
  DeviceMatrix wr, wk, wv, wo, w1, w2, a1, a2, g1, g2, v1, v2, fk, fv;
};

// A LoRA matrix: rwkv.cpp stores it transposed to (out, in) already; the
// official files keep PyTorch's (in, out) for `x @ W`.
Result<DeviceMatrix> lora(const WeightLoader& L, const std::string& name, int64_t out, int64_t in) {
  WB_TRY(t, L.need(name));
  const std::string& path = L.file().path;
  if (t->shape.size() != 2) return make_error(Errc::format, "{}: tensor '{}' should be a matrix", path, name);
  if (L.file().convention == ValueConvention::rwkv_cpp) return L.matrix(name, out, in);
  return L.matrix_transposed(name, out, in);
}

// The same LoRA as f32, one part: the fused decode step (wkv7_step.comp) reads
// its up-projections as f32 (small: C x d).
Result<DeviceMatrix> lora_f32(const WeightLoader& L, const std::string& name, int64_t out, int64_t in) {
  WB_TRY(t, L.need(name));
  const std::string& path = L.file().path;
  if (t->shape.size() != 2) return make_error(Errc::format, "{}: tensor '{}' should be a matrix", path, name);
  Result<DeviceMatrix> m = make_error(Errc::internal, "unset");
  if (L.file().convention == ValueConvention::rwkv_cpp) {
    if (t->shape[0] != out || t->shape[1] != in)
      return make_error(Errc::format, "{}: tensor '{}' should be {}x{}", path, name, out, in);
    WB_TRY(f, L.vec(name, static_cast<uint64_t>(out * in)));
    m = L.matrix_from(f, out, in, t->dtype, WeightType::f32);
  } else {
    m = L.matrix_transposed(name, out, in, WeightType::f32);
  }
  if (m && m->parts.size() != 1) return make_error(Errc::limit, "{}: LoRA '{}' does not fit one buffer", path, name);
  return m;
}

// Decode's time mixing in fewer dependent dispatches (wkv7_step.comp). Automatic:
// full on GPUs, where it measured 3-4% faster than unfused (H200, 0.19B-1.5B,
// with reused recordings), off on CPU devices, where its workgroup barriers make
// it slower (lavapipe: 7-9 against 14 tokens/s; README "Vulkan backend").
// WB_VK_FUSED=0|1|2 chooses off / full / partial for tuning.
Fusion decode_fusion(const VulkanModelOptions& opt, const DeviceInfo& device) {
  if (opt.fused_decode != Fusion::automatic) return opt.fused_decode;
  if (const char* e = std::getenv("WB_VK_FUSED"); e && e[0] >= '0' && e[0] <= '2' && e[1] == 0)
    return e[0] == '1' ? Fusion::full : e[0] == '2' ? Fusion::partial : Fusion::off;
  return device.type == "cpu" ? Fusion::off : Fusion::full;
}

// See Switch in rwkv7_vulkan.hpp. The texel path (CPU devices) has no matmul_tail.
bool layer_norm_tails(const VulkanModelOptions& opt, const Context& ctx) {
  if (ctx.prefers_texel_kernels()) return false;
  if (opt.layer_norm_tails != Switch::automatic) return opt.layer_norm_tails == Switch::on;
  const char* e = std::getenv("WB_VK_LN_TAIL");
  return e && e[0] == '1' && e[1] == 0;
}

// Workgroups of the persistent decode layer (see VulkanModelOptions::persistent_groups):
// a power of two (grid_sync.glsl's count stays exact when it wraps), and one on
// CPU devices, which cannot wait at a grid barrier (lavapipe ends long loops).
// `auto` (kPersistentAuto, WB_VK_PERSIST=auto): one per multiprocessor where the
// driver tells their number, else off.
uint32_t persistent_groups(const VulkanModelOptions& opt, const DeviceInfo& device) {
  uint32_t n = opt.persistent_groups;
  if (n == 0)
    if (const char* e = std::getenv("WB_VK_PERSIST"))
      n = std::string_view(e) == "auto" ? VulkanModelOptions::kPersistentAuto
                                        : static_cast<uint32_t>(std::clamp(std::atol(e), 0L, 4096L));
  if (n == VulkanModelOptions::kPersistentAuto) n = device.type == "cpu" ? 1 : std::min(device.compute_units, 4096u);
  if (n == 0) return 0;
  if (device.type == "cpu") return 1;
  while (n & (n - 1)) n &= n - 1;  // down to a power of two
  return n;
}

int64_t lora_dim(const TensorFile& tf, const std::string& name, int64_t C) {
  const TensorView* t = tf.find(name);
  if (!t || t->shape.size() != 2) return 0;
  return t->shape[0] == C ? t->shape[1] : t->shape[0];
}

class Rwkv7Vulkan final : public RwkvVulkan {
 public:
  using RwkvVulkan::RwkvVulkan;

 protected:
  Status load_layers(WeightLoader& L) override;
  Status record_layer(uint32_t l, uint32_t T, uint32_t n_seq) override;
  Status record_up_projections(const Layer& y, uint32_t l, uint32_t n);
  // Layer l of a one-state decode step as one dispatch (rwkv7_layer_*.comp).
  Status record_persistent_layer(uint32_t l);
  // Whether every layer's matrices suit rwkv7_layer_*.comp (else it stays off).
  bool persistent_fits() const;
  // Whether the persistent layer's buffers are loaded: in use, or offered.
  bool persist_loaded() const { return persist_groups_ || persist_offered_; }
  const Buffer* give_up_flag(uint32_t T, uint32_t n_seq) const override;
  void gave_up() override;
  bool inject_give_up() override;
  bool persistent_call(uint32_t T, uint32_t n_seq) const {
    return T == 1 && n_seq == 1 && persist_groups_ && rescale_every_ == 0;
  }
  // Float offset of LoRA m's outputs in lora_ (w, a, g, v; max_vec_ vectors of up to D_ each).
  uint32_t lora_region(uint32_t m) const { return m * max_vec_ * D_; }
  size_t layer_stride() const override { return 2 * C_ + C_ * N_; }
  std::vector<std::string> offered_variants() const override;
  Status switch_variant(std::string_view name) override;
  std::string active_variant() const override;
  uint32_t mix_slots() const override { return 6; }

 private:
  uint32_t N_ = 0, D_ = 0;
  Fusion fusion_ = Fusion::off;  // decode through wkv7_step.comp (full: up-projections f32)
  bool tails_ = false;           // decode: norms in the residual matmuls' last workgroup (matmul_tail_*.comp)
  Buffer tail_counter_;          // matmul_tail's workgroup count (0 between dispatches)
  uint32_t persist_groups_ = 0;  // one-state decode layers as one dispatch of this many workgroups (0: off)
  Buffer persist_sync_;          // rwkv7_layer's grid barriers: arrival count, fail flag (grid_sync.glsl)
  Buffer persist_up_;            // rwkv7_layer's up-projection outputs (4*C) when they are a phase of their own
  bool persist_up_split_ = false;  // WB_VK_PERSIST_UP=1 and every LoRA width % 8 == 0
  // The decode variants offered for measuring (offers_decode_variants): what each needs
  // is loaded; the reference (chain) is in use until one is chosen.
  bool offer_variants_ = false;
  bool tails_offered_ = false;     // ln_tails
  uint32_t persist_offered_ = 0;   // persistent: its workgroups (0: not offered)
  bool split_offered_ = false;     // persistent_split_up
  std::vector<Layer> layers_;
  // Scratch beyond the common buffers, max_vec_ vectors each.
  Buffer r_, k_, v_, w_, a_, g_, kk_, vl_, vfirst_, lora_, att_;
};

Status Rwkv7Vulkan::load_layers(WeightLoader& L) {
  const TensorFile& tf = L.file();
  N_ = static_cast<uint32_t>(info_.head_size);
  const int64_t C = C_;
  fusion_ = decode_fusion(opt_, ctx_->device());
  offer_variants_ = offers_decode_variants(opt_, ctx_->device().type != "cpu");
  if (offer_variants_) {
    tails_offered_ = !ctx_->prefers_texel_kernels();
    VulkanModelOptions as_many = opt_;
    as_many.persistent_groups = VulkanModelOptions::kPersistentAuto;
    // (the persistent layer does not halve the residual as such checkpoints ask)
    persist_offered_ = rescale_every_ == 0 ? persistent_groups(as_many, ctx_->device()) : 0;
  } else {
    tails_ = layer_norm_tails(opt_, *ctx_);
    persist_groups_ = persistent_groups(opt_, ctx_->device());
  }
  if (tails_ || tails_offered_) {
    const float zeros[4] = {};
    WB_TRY(counter, upload_floats(*ctx_, zeros));  // 0.0f has the bits of 0u
    tail_counter_ = std::move(counter);
  }
  // The full step reads LoRA rows as vec4: every width must be a multiple of 4.
  for (int l = 0; l < info_.n_layer && fusion_ == Fusion::full; ++l)
    for (const char* n : {"w1", "a1", "g1", "v1"}) {
      const int64_t d = lora_dim(tf, fmt::format("blocks.{}.att.{}", l, n), C);
      if (d > 0 && d % 4 != 0) fusion_ = Fusion::partial;
    }
  if (N_ == 0 || N_ > 64 || C_ % N_ != 0)
    return make_error(Errc::unsupported, "{}: head size {} / n_embd {} not supported by the Vulkan kernels", tf.path,
                      N_, C_);
  for (int l = 0; l < info_.n_layer; ++l) {
    const std::string p = fmt::format("blocks.{}.", l), a = p + "att.", f = p + "ffn.";
    Layer y;
    std::vector<float> norms[4];  // ln1 weight, bias, ln2 weight, bias
    Buffer* norm_bufs[4] = {&y.ln1_w, &y.ln1_b, &y.ln2_w, &y.ln2_b};
    const char* norm_names[4] = {"ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias"};
    for (int i = 0; i < 4; ++i) {
      WB_TRY(v, L.vec(p + norm_names[i], C_));
      WB_TRY(b, upload_floats(*ctx_, v));
      norms[i] = std::move(v);
      *norm_bufs[i] = std::move(b);
    }

    std::vector<float> mix;
    if (tf.find(a + "x_rwkvag")) {
      WB_TRY(m, L.vec(a + "x_rwkvag", 6 * C));
      mix = std::move(m);
    } else {
      for (const char* n : {"x_r", "x_w", "x_k", "x_v", "x_a", "x_g"}) {
        WB_TRY(m, L.vec(a + n, C_));
        mix.insert(mix.end(), m.begin(), m.end());
      }
    }
    WB_TRY(mixb, upload_floats(*ctx_, mix));
    y.att_mix = std::move(mixb);

    std::vector<float> prep;
    for (const char* n : {"w0", "a0", "v0", "k_k", "k_a"}) {
      if (std::string(n) == "v0" && l == 0 && !tf.find(a + n)) {
        prep.insert(prep.end(), C_, 0.0f);  // layer 0 keeps v_first; rwkv.cpp omits v0/v1/v2 there
        continue;
      }
      WB_TRY(m, L.vec(a + n, C_));
      prep.insert(prep.end(), m.begin(), m.end());
    }
    WB_TRY(prepb, upload_floats(*ctx_, prep));
    y.prep = std::move(prepb);

    std::vector<float> wkv;
    for (const char* n : {"r_k", "ln_x.weight", "ln_x.bias"}) {
      WB_TRY(m, L.vec(a + n, C_));
      wkv.insert(wkv.end(), m.begin(), m.end());
    }
    WB_TRY(wkvb, upload_floats(*ctx_, wkv));
    y.wkv = std::move(wkvb);
    WB_TRY(fmix, L.vec(f + "x_k", C_));
    WB_TRY(fmixb, upload_floats(*ctx_, fmix));
    y.ffn_mix = std::move(fmixb);
    if (persist_loaded()) {
      // rwkv7_layer_body.glsl's prm: prep, wkv, ln1, att mixes, ln2, ffn mix.
      std::vector<float> prm = prep;
      for (const std::vector<float>* part : {&wkv, &norms[0], &norms[1], &mix, &norms[2], &norms[3], &fmix})
        prm.insert(prm.end(), part->begin(), part->end());
      WB_TRY(pb, upload_floats(*ctx_, prm));
      y.persist = std::move(pb);
    }

    WB_TRY(wr, L.matrix(a + "receptance.weight", C, C));
    WB_TRY(wk, L.matrix(a + "key.weight", C, C));
    WB_TRY(wv, L.matrix(a + "value.weight", C, C));
    WB_TRY(wo, L.matrix(a + "output.weight", C, C));
    y.wr = std::move(wr), y.wk = std::move(wk), y.wv = std::move(wv), y.wo = std::move(wo);
    auto lora_pair = [&](const char* n1, const char* n2, DeviceMatrix& m1, DeviceMatrix& m2) -> Status {
      const int64_t d = lora_dim(tf, a + n1, C);
      if (d <= 0) return make_error(Errc::format, "{}: tensor '{}{}' is missing or not a matrix", tf.path, a, n1);
      WB_TRY(x1, lora(L, a + n1, d, C));
      WB_TRY(x2, fusion_ == Fusion::full ? lora_f32(L, a + n2, C, d) : lora(L, a + n2, C, d));
      m1 = std::move(x1), m2 = std::move(x2);
      D_ = std::max(D_, static_cast<uint32_t>(d));
      return {};
    };
    WB_CHECK(lora_pair("w1", "w2", y.w1, y.w2));
    WB_CHECK(lora_pair("a1", "a2", y.a1, y.a2));
    WB_CHECK(lora_pair("g1", "g2", y.g1, y.g2));
    if (l > 0) WB_CHECK(lora_pair("v1", "v2", y.v1, y.v2));
    WB_TRY(fk, L.matrix(f + "key.weight", F_, C));
    WB_TRY(fv, L.matrix(f + "value.weight", C, F_));
    y.fk = std::move(fk), y.fv = std::move(fv);
    layers_.push_back(std::move(y));
  }
  if (persist_loaded() && !persistent_fits()) persist_groups_ = persist_offered_ = 0;
  if (persist_loaded()) {
    const float zeros[4] = {};
    WB_TRY(sync, upload_floats(*ctx_, zeros));  // 0.0f has the bits of 0u
    persist_sync_ = std::move(sync);
    bool split_fits = true;
    for (const Layer& y : layers_)
      for (const DeviceMatrix* m : {&y.w1, &y.a1, &y.g1, &y.v1}) split_fits &= m->rows % 8 == 0;
    const char* e = std::getenv("WB_VK_PERSIST_UP");
    persist_up_split_ = !offer_variants_ && split_fits && (opt_.persistent_split_up || (e && e[0] == '1' && e[1] == 0));
    split_offered_ = persist_offered_ && split_fits;
    // Bound either way; only the split phase writes it (4*C floats then).
    WB_CHECK(scratch(persist_up_split_ || split_offered_ ? uint64_t{4} * C_ * 4 : 16, persist_up_));
  }
  for (Buffer* b : {&r_, &k_, &v_, &w_, &a_, &g_, &kk_, &vl_, &vfirst_, &att_}) WB_CHECK(scratch(vec_bytes(C_), *b));
  D_ = (std::max(D_, 8u) + 3) / 4 * 4;  // regions start on vec4 boundaries
  WB_CHECK(scratch(vec_bytes(4 * D_), lora_));
  return {};
}

Status Rwkv7Vulkan::record_layer(uint32_t l, uint32_t T, uint32_t n_seq) {
  const Layer& y = layers_[l];
  const uint32_t C = C_, n = T * n_seq, nC = n * C;
  const uint32_t base = layer_base(l);
  auto& cs = cs_;
  auto& o = ops_;
  const uint32_t slot = static_cast<uint32_t>(state_floats());

  if (persistent_call(T, n_seq)) return record_persistent_layer(l);
  const uint32_t att_shift = base + kAttShift * C, ffn_shift = base + kFfnShift * C;
  // Single tokens of up to 8 states may take each norm in the residual matmul
  // before it (tails_): the output projection mixes the FFN's input, the FFN
  // value projection the next layer's (not the last layer's: ln_out follows).
  // Not with checkpoints that halve the residual between layers: the halving
  // comes after the FFN value projection, so its tail would normalise too early.
  const bool tail = T == 1 && tails_ && n <= 8 && rescale_every_ == 0;
  const bool last = l + 1 == layers_.size();
  auto tail_for = [&](const Buffer& w, const Buffer& b, const Buffer& mix, uint32_t n_mix, uint32_t shift) {
    return Ops::LnTail{&w, &b, &mix, n_mix, state_buf_, shift, slot, &xmix_, kLayerNormEps, &tail_counter_};
  };

  // Time mixing (with tails, every layer's but the first was mixed by the layer
  // before). Sequences copy their shift state in the projections' group.
  if (!(tail && l > 0)) WB_CHECK(norm_mix(y.ln1_w, y.ln1_b, y.att_mix, 6, att_shift, T, n_seq));
  // Projection of mix slot m (x_r, x_w, x_k, x_v, x_a, x_g) into out.
  auto project = [&](const DeviceMatrix& W, uint32_t m, const Buffer& out, uint32_t off, uint32_t width, Act act) {
    return o.matmul(cs, W, xmix_, m * nC, C, out, off, width, n, act);
  };
  // The projections and the LoRA down-projections all read the same input and
  // write their own buffers (each LoRA its own region of lora_), so they run as one
  // group; the up-projections form a second. A GPU then overlaps these small
  // products instead of draining between each (decode is latency-bound).
  const uint32_t dw = y.w1.rows, da = y.a1.rows, dg = y.g1.rows, dv = l > 0 ? y.v1.rows : 0;
  cs.begin_independent();
  WB_CHECK(norm_shift_copies(att_shift, T, n_seq));
  WB_CHECK(project(y.wr, 0, r_, 0, C, Act::none));
  WB_CHECK(project(y.wk, 2, k_, 0, C, Act::none));
  WB_CHECK(project(y.wv, 3, v_, 0, C, Act::none));
  WB_CHECK(project(y.w1, 1, lora_, lora_region(0), dw, Act::tanh));
  WB_CHECK(project(y.a1, 4, lora_, lora_region(1), da, Act::none));
  WB_CHECK(project(y.g1, 5, lora_, lora_region(2), dg, Act::sigmoid));
  if (l > 0) WB_CHECK(project(y.v1, 3, lora_, lora_region(3), dv, Act::none));
  cs.end_independent();
  if (T == 1 && fusion_ != Fusion::off) {
    // Prep, WKV and output norm in one dispatch (wkv7_step.comp), with the
    // up-projections too (full) or after their matmuls (partial).
    Wkv7StepPush sp{C, N_, n, base + 2 * C, slot, info_.group_norm_eps, l == 0 ? 1u : 0u, 0, {}, {}};
    const DeviceMatrix* up[4] = {&y.w2, &y.a2, &y.g2, l > 0 ? &y.v2 : nullptr};
    for (uint32_t m = 0; m < 4; ++m) {
      sp.d[m] = up[m] ? up[m]->cols : 0;
      sp.lora_off[m] = lora_region(m);
    }
    const Buffer* sb[9] = {&r_, &k_, &v_, &lora_, &vfirst_, state_buf_, &y.prep, &y.wkv, &att_};
    if (fusion_ == Fusion::full) {
      WB_CHECK(o.wkv7_step(cs, sb, up, sp));
    } else {
      WB_CHECK(record_up_projections(y, l, n));
      const Buffer* outs[4] = {&w_, &a_, &g_, l > 0 ? &vl_ : nullptr};
      WB_CHECK(o.wkv7_step_given(cs, sb, outs, sp));
    }
  } else {
    WB_CHECK(record_up_projections(y, l, n));
    WB_CHECK(o.rwkv7_prep(cs, k_, v_, w_, a_, vl_, vfirst_, kk_, y.prep, C, n, l == 0));
    const Buffer* bufs[10] = {&r_, &w_, &k_, &v_, &kk_, &a_, &g_, state_buf_, &y.wkv, &att_};
    WB_CHECK(o.wkv7(cs, bufs, {C, N_, T, n, base + 2 * C, slot, info_.group_norm_eps, 0}, n_seq));
  }
  // Channel mixing.
  if (tail) {
    WB_CHECK(o.matmul_tail(cs, y.wo, att_, 0, C, x_, 0, C, n, true,
                           tail_for(y.ln2_w, y.ln2_b, y.ffn_mix, 1, ffn_shift)));
  } else {
    WB_CHECK(o.matmul(cs, y.wo, att_, 0, C, x_, 0, C, n, Act::none, true));
    WB_CHECK(norm_mix(y.ln2_w, y.ln2_b, y.ffn_mix, 1, ffn_shift, T, n_seq));
  }
  cs.begin_independent();
  WB_CHECK(norm_shift_copies(ffn_shift, T, n_seq));
  WB_CHECK(o.matmul(cs, y.fk, xmix_, 0, C, ffk_, 0, F_, n, Act::relu_sq));
  cs.end_independent();
  if (tail && !last) {
    const Layer& next = layers_[l + 1];
    WB_CHECK(o.matmul_tail(cs, y.fv, ffk_, 0, F_, x_, 0, C, n, true,
                           tail_for(next.ln1_w, next.ln1_b, next.att_mix, 6, layer_base(l + 1) + kAttShift * C)));
    return {};
  }
  WB_CHECK(o.matmul(cs, y.fv, ffk_, 0, F_, x_, 0, C, n, Act::none, true));
  return {};
}

bool Rwkv7Vulkan::persistent_fits() const {
  if (fusion_ != Fusion::full || F_ % 8 != 0 || ctx_->device().max_storage_buffers < 26) return false;
  // llvmpipe also ends a shader invocation's loops after 65,535 iterations in
  // all; one workgroup doing a whole layer stays under that up to the widths
  // the tests run (the 0.1B shape), not beyond.
  if (ctx_->device().type == "cpu" && (C_ > 768 || F_ > 3072)) return false;
  const WeightType type = layers_.front().wr.type;
  if (type == WeightType::q8_0) return false;
  for (const Layer& y : layers_) {
    for (const DeviceMatrix* m : {&y.wr, &y.wk, &y.wv, &y.wo, &y.w1, &y.a1, &y.g1, &y.fk, &y.fv})
      if (m->type != type || m->parts.size() != 1) return false;
    if (&y != &layers_.front() && (y.v1.type != type || y.v1.parts.size() != 1)) return false;
  }
  return true;
}

Status Rwkv7Vulkan::record_persistent_layer(uint32_t l) {
  const Layer& y = layers_[l];
  const uint32_t C = C_, base = layer_base(l);
  Rwkv7LayerPush push{C, F_, N_, l == 0 ? 1u : 0u, {}, {}, base + kAttShift * C, base + kFfnShift * C,
                      base + 2 * C, 0, kLayerNormEps, info_.group_norm_eps};
  const DeviceMatrix* down[4] = {&y.w1, &y.a1, &y.g1, l > 0 ? &y.v1 : nullptr};
  for (uint32_t m = 0; m < 4; ++m) {
    push.d[m] = down[m] ? down[m]->rows : 0;
    push.lora_off[m] = lora_region(m);
  }
  const Buffer* bufs[12] = {&x_, state_buf_, &r_, &k_, &v_, &lora_, &vfirst_, &att_, &ffk_, &y.persist,
                            &persist_sync_, &persist_up_};
  const DeviceMatrix* mats[10] = {&y.wr, &y.wk, &y.wv, &y.w1, &y.a1, &y.g1, down[3], &y.wo, &y.fk, &y.fv};
  const DeviceMatrix* up[4] = {&y.w2, &y.a2, &y.g2, l > 0 ? &y.v2 : nullptr};
  // A GPU polls a barrier in under a microsecond: 4M polls are seconds, far
  // beyond any phase's work. (CPU devices run one workgroup: it never waits.)
  constexpr uint32_t kSpinLimit = 1u << 22;
  return ops_.rwkv7_layer(cs_, bufs, mats, up, push, persist_groups_, kSpinLimit, persist_up_split_);
}

// grid_sync.glsl's fail word (word 1 of persist_sync_) is set by a workgroup
// that waited too long at a barrier: the workgroups did not all run at once.
const Buffer* Rwkv7Vulkan::give_up_flag(uint32_t T, uint32_t n_seq) const {
  return persistent_call(T, n_seq) ? &persist_sync_ : nullptr;
}

void Rwkv7Vulkan::gave_up() {
  if (opt_.log)
    opt_.log->warn("vulkan: this device did not run the {} workgroups of the persistent decode layer at once; "
                   "the call ran again without it, and it stays off for this model (WB_VK_PERSIST)",
                   persist_groups_);
  persist_groups_ = persist_offered_ = 0;
}

bool Rwkv7Vulkan::inject_give_up() {
  if (!persist_groups_) return false;
  const uint32_t fail = 1;
  return ctx_->upload(persist_sync_, 4, &fail, 4).ok();
}

std::vector<std::string> Rwkv7Vulkan::offered_variants() const {
  if (!offer_variants_) return {};
  std::vector<std::string> v = {"chain"};
  if (tails_offered_) v.emplace_back("ln_tails");
  if (persist_offered_) v.emplace_back("persistent");
  if (persist_offered_ && split_offered_) v.emplace_back("persistent_split_up");
  if (v.size() < 2) v.clear();
  return v;
}

Status Rwkv7Vulkan::switch_variant(std::string_view name) {
  const std::vector<std::string> offered = offered_variants();
  if (std::find(offered.begin(), offered.end(), name) == offered.end()) return RwkvVulkan::switch_variant(name);
  tails_ = name == "ln_tails";
  persist_groups_ = name.starts_with("persistent") ? persist_offered_ : 0;
  persist_up_split_ = name == "persistent_split_up";
  return {};
}

std::string Rwkv7Vulkan::active_variant() const {
  if (persist_groups_ && rescale_every_ == 0) return persist_up_split_ ? "persistent_split_up" : "persistent";
  return tails_ ? "ln_tails" : "chain";
}

// The LoRA up-projections as one group of matmuls (w_, a_, g_, vl_ from lora_'s regions).
Status Rwkv7Vulkan::record_up_projections(const Layer& y, uint32_t l, uint32_t n) {
  // Each up-projection reads its LoRA's region (vectors of d = its cols floats).
  cs_.begin_independent();
  WB_CHECK(ops_.matmul(cs_, y.w2, lora_, lora_region(0), y.w2.cols, w_, 0, C_, n));
  WB_CHECK(ops_.matmul(cs_, y.a2, lora_, lora_region(1), y.a2.cols, a_, 0, C_, n));
  WB_CHECK(ops_.matmul(cs_, y.g2, lora_, lora_region(2), y.g2.cols, g_, 0, C_, n));
  if (l > 0) WB_CHECK(ops_.matmul(cs_, y.v2, lora_, lora_region(3), y.v2.cols, vl_, 0, C_, n));
  cs_.end_independent();
  return {};
}

}  // namespace

bool offers_decode_variants(const VulkanModelOptions& opt, bool gpu) {
  Switch t = opt.tune_decode;
  if (const char* e = std::getenv("WB_VK_TUNE"); t == Switch::automatic && e && (e[0] == '0' || e[0] == '1') && !e[1])
    t = e[0] == '1' ? Switch::on : Switch::off;
  if (t != Switch::automatic) return t == Switch::on;
  const bool by_hand = opt.persistent_groups != 0 || opt.persistent_split_up ||
                       opt.layer_norm_tails != Switch::automatic || std::getenv("WB_VK_PERSIST") ||
                       std::getenv("WB_VK_PERSIST_UP") || std::getenv("WB_VK_LN_TAIL");
  return gpu && !by_hand;
}

Result<ModelInfo> rwkv7_info(const TensorFile& tf) {
  const TensorView* rk = tf.find("blocks.0.att.r_k");
  if (!rk || rk->shape.size() != 2) return make_error(Errc::format, "{}: not an RWKV-7 file (no 2-D att.r_k)", tf.path);
  WB_TRY(info, common_info(tf, Arch::v7));
  info.n_head = static_cast<int>(rk->shape[0]);
  info.head_size = static_cast<int>(rk->shape[1]);
  if (info.n_head * info.head_size != info.n_embd)
    return make_error(Errc::format, "{}: r_k is {}x{} but n_embd is {}", tf.path, info.n_head, info.head_size,
                      info.n_embd);
  info.group_norm_eps = kLnXEps;
  return info;
}

Result<std::unique_ptr<VulkanModel>> load_rwkv7_vulkan(const TensorFile& tf, const VulkanModelOptions& opt) {
  WB_TRY(info, rwkv7_info(tf));
  WB_TRY(ctx, make_context(opt));
  auto m = std::make_unique<Rwkv7Vulkan>(std::move(ctx), std::move(info), opt);
  WB_CHECK(m->load(tf));
  return std::unique_ptr<VulkanModel>(std::move(m));
}

}  // namespace wb::vk
