#include "core/backend/vulkan/rwkv7_vulkan.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include "core/backend/vulkan/vk_ops.hpp"
#include "core/util/log.hpp"

namespace wb::vk {
namespace {

constexpr float kLnEps = 1e-5f;      // layer norms (PyTorch default)
constexpr float kLnXEps = 64e-5f;    // v7 ln_x group norm (BlinkDL and rwkv.cpp agree)
// State layout shared with the CPU runtime (cpu/rwkv7.cpp), in units of C per layer.
constexpr uint32_t kFfnShift = 0, kAttShift = 1;

struct Layer {
  Buffer ln1_w, ln1_b, ln2_w, ln2_b;
  Buffer att_mix;     // 6*C: x_r, x_w, x_k, x_v, x_a, x_g
  Buffer prep;        // 5*C: w0, a0, v0, k_k, k_a
  Buffer wkv;         // 3*C: r_k, ln_x weight, ln_x bias
  Buffer ffn_mix;     // C
  DeviceMatrix wr, wk, wv, wo, w1, w2, a1, a2, g1, g2, v1, v2, fk, fv;
};

class Loader {
 public:
  Loader(Context& ctx, const TensorFile& tf, const VulkanModelOptions& opt) : ctx_(ctx), tf_(tf), opt_(opt) {}

  Result<const TensorView*> need(const std::string& name) const {
    const TensorView* t = tf_.find(name);
    if (!t) return make_error(Errc::format, "{}: tensor '{}' is missing (RWKV-7)", tf_.path, name);
    return t;
  }

  Result<std::vector<float>> vec(const std::string& name, uint64_t n) const {
    WB_TRY(t, need(name));
    if (t->numel() != n)
      return make_error(Errc::format, "{}: tensor '{}' has {} elements, expected {}", tf_.path, name, t->numel(), n);
    return tensor_to_f32(*t);
  }

  Result<Buffer> vec_buffer(const std::string& name, uint64_t n) const {
    WB_TRY(v, vec(name, n));
    return upload_floats(ctx_, v);
  }

  // A (out, in) matrix used as y = W x.
  Result<DeviceMatrix> matrix(const std::string& name, int64_t out, int64_t in) const {
    WB_TRY(t, need(name));
    if (t->shape.size() != 2 || t->shape[0] != out || t->shape[1] != in)
      return make_error(Errc::format, "{}: tensor '{}' should be {}x{}", tf_.path, name, out, in);
    UploadOptions uo;
    uo.f16 = opt_.f16_weights;
    auto m = upload_matrix(ctx_, *t, uo);
    if (!m) return make_error(m.error().code, "{}: {}", tf_.path, m.error().message);
    return m;
  }

  // A LoRA matrix: rwkv.cpp stores it transposed to (out, in) already; the
  // official files keep PyTorch's (in, out) for `x @ W`.
  Result<DeviceMatrix> lora(const std::string& name, int64_t out, int64_t in) const {
    WB_TRY(t, need(name));
    if (t->shape.size() != 2) return make_error(Errc::format, "{}: tensor '{}' should be a matrix", tf_.path, name);
    const bool out_in = t->shape[0] == out && t->shape[1] == in;
    const bool in_out = t->shape[0] == in && t->shape[1] == out;
    if (tf_.convention == ValueConvention::rwkv_cpp) {
      if (!out_in) return make_error(Errc::format, "{}: LoRA tensor '{}' should be {}x{}", tf_.path, name, out, in);
      return matrix(name, out, in);
    }
    if (!in_out) return make_error(Errc::format, "{}: LoRA tensor '{}' should be {}x{}", tf_.path, name, in, out);
    WB_TRY(f, tensor_to_f32(*t));
    std::vector<float> tr(f.size());
    for (int64_t i = 0; i < in; ++i)
      for (int64_t o = 0; o < out; ++o) tr[o * in + i] = f[i * out + o];
    const WeightType type = (t->dtype == DType::f16 || opt_.f16_weights) ? WeightType::f16 : WeightType::f32;
    return upload_matrix_f32(ctx_, tr, static_cast<uint32_t>(out), static_cast<uint32_t>(in), type, {});
  }

  int64_t lora_dim(const std::string& name, int64_t C) const {
    const TensorView* t = tf_.find(name);
    if (!t || t->shape.size() != 2) return 0;
    return t->shape[0] == C ? t->shape[1] : t->shape[0];
  }

 private:
  Context& ctx_;
  const TensorFile& tf_;
  const VulkanModelOptions& opt_;
};

class Rwkv7Vulkan final : public VulkanModel {
 public:
  Rwkv7Vulkan(std::unique_ptr<Context> ctx, ModelInfo info, const VulkanModelOptions& opt)
      : ctx_(std::move(ctx)), ops_(*ctx_), cs_(*ctx_), info_(std::move(info)), opt_(opt) {}

  const ModelInfo& info() const override { return info_; }
  std::string_view backend() const override { return "vulkan"; }
  State new_state() const override { return State(state_floats()); }

  VulkanMemory memory() const override {
    VulkanMemory m;
    m.weights = weight_bytes_;
    m.states = state_arena_.size() + state_stage_.size();
    m.scratch = ctx_->allocated_bytes() - weight_bytes_ - m.states;
    m.validation_errors = ctx_->validation_errors();
    m.device = ctx_->device().name;
    return m;
  }

  Status load(const TensorFile& tf);

  Status prefill(std::span<const int32_t> tokens, State& state, std::span<float> logits) override {
    std::lock_guard lock(mu_);
    if (tokens.empty()) return make_error(Errc::invalid_argument, "prefill: no tokens");
    WB_CHECK(check_state(state));
    WB_CHECK(check_logits(logits, 1));
    State* sp = &state;
    for (size_t i = 0; i < tokens.size(); i += chunk_) {
      const size_t n = std::min<size_t>(chunk_, tokens.size() - i);
      const bool last = i + n == tokens.size();
      WB_CHECK(run(tokens.subspan(i, n), static_cast<uint32_t>(n), std::span<State* const>(&sp, 1),
                   last ? logits : std::span<float>()));
    }
    return {};
  }

  Status decode(std::span<const int32_t> tokens, std::span<State* const> states, std::span<float> logits) override {
    std::lock_guard lock(mu_);
    if (tokens.size() != states.size())
      return make_error(Errc::invalid_argument, "decode: {} tokens for {} states", tokens.size(), states.size());
    WB_CHECK(check_logits(logits, tokens.size()));
    for (State* s : states) {
      if (!s) return make_error(Errc::invalid_argument, "decode: null state");
      WB_CHECK(check_state(*s));
    }
    const size_t V = static_cast<size_t>(info_.n_vocab);
    for (size_t i = 0; i < tokens.size(); i += batch_) {
      const size_t n = std::min<size_t>(batch_, tokens.size() - i);
      WB_CHECK(run(tokens.subspan(i, n), 1, states.subspan(i, n),
                   logits.empty() ? logits : logits.subspan(i * V, n * V)));
    }
    return {};
  }

 private:
  size_t layer_stride() const { return 2 * C_ + C_ * N_; }
  size_t state_floats() const { return static_cast<size_t>(info_.n_layer) * layer_stride(); }

  Status check_state(const State& s) const {
    if (s.data().size() != state_floats())
      return make_error(Errc::invalid_argument, "state has {} floats; this RWKV-7 model needs {}", s.data().size(),
                        state_floats());
    return {};
  }
  Status check_logits(std::span<float> logits, size_t n) const {
    if (!logits.empty() && logits.size() != n * static_cast<size_t>(info_.n_vocab))
      return make_error(Errc::invalid_argument, "logits span has {} floats, expected {}", logits.size(),
                        n * static_cast<size_t>(info_.n_vocab));
    return {};
  }

  Status embed(std::span<const int32_t> tokens, float* dst) const;
  Status run(std::span<const int32_t> tokens, uint32_t T, std::span<State* const> states, std::span<float> logits);
  Status record_layer(uint32_t l, uint32_t T, uint32_t n_seq);

  std::unique_ptr<Context> ctx_;
  Ops ops_;
  CommandStream cs_;
  ModelInfo info_;
  VulkanModelOptions opt_;
  std::mutex mu_;
  uint32_t C_ = 0, N_ = 0, F_ = 0, D_ = 0, chunk_ = 0, batch_ = 0, max_vec_ = 0;
  uint64_t weight_bytes_ = 0;

  TensorView emb_;
  std::vector<std::shared_ptr<const void>> owners_;  // keep the embedding's file map alive
  Buffer ln0_w_, ln0_b_, lnout_w_, lnout_b_;
  DeviceMatrix head_;
  std::vector<Layer> layers_;

  // Scratch, sized for max_vec_ vectors.
  Buffer in_, x_, xln_, xmix_, r_, k_, v_, w_, a_, g_, kk_, vl_, vfirst_, lora_, att_, ffk_, logits_;
  Buffer state_arena_;
  Buffer state_stage_;  // host-visible mirror of the arena when the arena is not mapped (discrete GPUs)
};

Status Rwkv7Vulkan::load(const TensorFile& tf) {
  Loader L(*ctx_, tf, opt_);
  C_ = static_cast<uint32_t>(info_.n_embd);
  N_ = static_cast<uint32_t>(info_.head_size);
  F_ = static_cast<uint32_t>(info_.n_ffn);
  const int64_t C = C_, V = info_.n_vocab;
  if (N_ == 0 || N_ > 64 || C_ % N_ != 0 || C_ % 8 != 0)
    return make_error(Errc::unsupported, "{}: head size {} / n_embd {} not supported by the Vulkan kernels", tf.path,
                      N_, C_);
  chunk_ = std::max(1u, opt_.max_chunk);
  batch_ = std::max(1u, opt_.max_batch);
  max_vec_ = std::max(chunk_, batch_);
  const uint64_t before = ctx_->allocated_bytes();

  WB_TRY(emb, L.need("emb.weight"));
  emb_ = *emb;
  owners_ = tf.owners;
  WB_TRY(ln0w, L.vec_buffer("blocks.0.ln0.weight", C_));
  WB_TRY(ln0b, L.vec_buffer("blocks.0.ln0.bias", C_));
  WB_TRY(lnow, L.vec_buffer("ln_out.weight", C_));
  WB_TRY(lnob, L.vec_buffer("ln_out.bias", C_));
  ln0_w_ = std::move(ln0w), ln0_b_ = std::move(ln0b), lnout_w_ = std::move(lnow), lnout_b_ = std::move(lnob);
  WB_TRY(head, L.matrix("head.weight", V, C));
  head_ = std::move(head);

  for (int l = 0; l < info_.n_layer; ++l) {
    const std::string p = fmt::format("blocks.{}.", l), a = p + "att.", f = p + "ffn.";
    Layer y;
    WB_TRY(l1w, L.vec_buffer(p + "ln1.weight", C_));
    WB_TRY(l1b, L.vec_buffer(p + "ln1.bias", C_));
    WB_TRY(l2w, L.vec_buffer(p + "ln2.weight", C_));
    WB_TRY(l2b, L.vec_buffer(p + "ln2.bias", C_));
    y.ln1_w = std::move(l1w), y.ln1_b = std::move(l1b), y.ln2_w = std::move(l2w), y.ln2_b = std::move(l2b);

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
    WB_TRY(fmix, L.vec_buffer(f + "x_k", C_));
    y.ffn_mix = std::move(fmix);

    WB_TRY(wr, L.matrix(a + "receptance.weight", C, C));
    WB_TRY(wk, L.matrix(a + "key.weight", C, C));
    WB_TRY(wv, L.matrix(a + "value.weight", C, C));
    WB_TRY(wo, L.matrix(a + "output.weight", C, C));
    y.wr = std::move(wr), y.wk = std::move(wk), y.wv = std::move(wv), y.wo = std::move(wo);
    auto lora_pair = [&](const char* n1, const char* n2, DeviceMatrix& m1, DeviceMatrix& m2) -> Status {
      const int64_t d = L.lora_dim(a + n1, C);
      if (d <= 0) return make_error(Errc::format, "{}: tensor '{}{}' is missing or not a matrix", tf.path, a, n1);
      WB_TRY(x1, L.lora(a + n1, d, C));
      WB_TRY(x2, L.lora(a + n2, C, d));
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
  weight_bytes_ = ctx_->allocated_bytes() - before;

  // Scratch and the state arena.
  const uint64_t vecC = uint64_t{max_vec_} * C_ * 4;
  auto dev = [&](uint64_t bytes, Buffer& b) -> Status {
    WB_TRY(x, ctx_->make_buffer(bytes, Memory::device));
    b = std::move(x);
    return {};
  };
  WB_TRY(inb, ctx_->make_buffer(vecC, Memory::host));
  in_ = std::move(inb);
  for (Buffer* b : {&x_, &xln_, &r_, &k_, &v_, &w_, &a_, &g_, &kk_, &vl_, &vfirst_, &att_}) WB_CHECK(dev(vecC, *b));
  WB_CHECK(dev(6 * vecC, xmix_));
  WB_CHECK(dev(uint64_t{max_vec_} * std::max(D_, 8u) * 4, lora_));
  WB_CHECK(dev(uint64_t{max_vec_} * F_ * 4, ffk_));
  WB_TRY(lg, ctx_->make_buffer(uint64_t{batch_} * info_.n_vocab * 4, Memory::host));
  logits_ = std::move(lg);
  WB_CHECK(dev(uint64_t{batch_} * state_floats() * 4, state_arena_));
  if (!state_arena_.mapped()) {
    WB_TRY(st, ctx_->make_buffer(state_arena_.size(), Memory::host));
    state_stage_ = std::move(st);
  }
  return {};
}

Status Rwkv7Vulkan::embed(std::span<const int32_t> tokens, float* dst) const {
  WB_TRY(row_bytes, dtype_bytes_for(emb_.dtype, C_));
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t t = tokens[i];
    if (t < 0 || t >= info_.n_vocab)
      return make_error(Errc::out_of_range, "token {} is outside the vocabulary (0..{})", t, info_.n_vocab - 1);
    TensorView row = emb_;
    row.shape = {static_cast<int64_t>(C_)};
    row.data = emb_.data + static_cast<uint64_t>(t) * row_bytes;
    row.nbytes = row_bytes;
    WB_TRY(v, tensor_to_f32(row));
    std::memcpy(dst + i * C_, v.data(), C_ * 4);
  }
  return {};
}

Status Rwkv7Vulkan::record_layer(uint32_t l, uint32_t T, uint32_t n_seq) {
  const Layer& y = layers_[l];
  const uint32_t C = C_, n = T * n_seq, nC = n * C;
  const uint32_t stride = static_cast<uint32_t>(layer_stride());
  const uint32_t base = static_cast<uint32_t>(l * layer_stride());
  auto& cs = cs_;
  auto& o = ops_;
  // Saves each sequence's last normalised token as its next token-shift input.
  auto save_shift = [&](uint32_t off) -> Status {
    for (uint32_t s = 0; s < n_seq; ++s)
      WB_CHECK(cs.copy(xln_, (uint64_t{s} * T + T - 1) * C * 4, state_arena_,
                       (uint64_t{s} * state_floats() + off) * 4, uint64_t{C} * 4));
    return {};
  };
  const uint32_t slot = static_cast<uint32_t>(state_floats());

  // Time mixing.
  WB_CHECK(o.layer_norm(cs, x_, 0, C, xln_, 0, C, y.ln1_w, y.ln1_b, C, n, kLnEps));
  WB_CHECK(o.token_mix(cs, xln_, state_arena_, y.att_mix, xmix_, {C, n, T, 6, base + kAttShift * C, slot}));
  WB_CHECK(save_shift(base + kAttShift * C));
  auto slot_off = [&](uint32_t m) { return m * nC; };
  WB_CHECK(o.matmul(cs, y.wr, xmix_, slot_off(0), C, r_, 0, C, n));
  WB_CHECK(o.matmul(cs, y.wk, xmix_, slot_off(2), C, k_, 0, C, n));
  WB_CHECK(o.matmul(cs, y.wv, xmix_, slot_off(3), C, v_, 0, C, n));
  const uint32_t dw = y.w1.rows, da = y.a1.rows, dg = y.g1.rows;
  WB_CHECK(o.matmul(cs, y.w1, xmix_, slot_off(1), C, lora_, 0, dw, n, Act::tanh));
  WB_CHECK(o.matmul(cs, y.w2, lora_, 0, dw, w_, 0, C, n));
  WB_CHECK(o.matmul(cs, y.a1, xmix_, slot_off(4), C, lora_, 0, da, n));
  WB_CHECK(o.matmul(cs, y.a2, lora_, 0, da, a_, 0, C, n));
  WB_CHECK(o.matmul(cs, y.g1, xmix_, slot_off(5), C, lora_, 0, dg, n, Act::sigmoid));
  WB_CHECK(o.matmul(cs, y.g2, lora_, 0, dg, g_, 0, C, n));
  if (l > 0) {
    const uint32_t dv = y.v1.rows;
    WB_CHECK(o.matmul(cs, y.v1, xmix_, slot_off(3), C, lora_, 0, dv, n));
    WB_CHECK(o.matmul(cs, y.v2, lora_, 0, dv, vl_, 0, C, n));
  }
  WB_CHECK(o.rwkv7_prep(cs, k_, v_, w_, a_, vl_, vfirst_, kk_, y.prep, C, n, l == 0));
  const Buffer* bufs[10] = {&r_, &w_, &k_, &v_, &kk_, &a_, &g_, &state_arena_, &y.wkv, &att_};
  WB_CHECK(o.wkv7(cs, bufs, {C, N_, T, n, base + 2 * C, slot, kLnXEps, 0}, n_seq));
  WB_CHECK(o.matmul(cs, y.wo, att_, 0, C, x_, 0, C, n, Act::none, true));

  // Channel mixing.
  WB_CHECK(o.layer_norm(cs, x_, 0, C, xln_, 0, C, y.ln2_w, y.ln2_b, C, n, kLnEps));
  WB_CHECK(o.token_mix(cs, xln_, state_arena_, y.ffn_mix, xmix_, {C, n, T, 1, base + kFfnShift * C, slot}));
  WB_CHECK(save_shift(base + kFfnShift * C));
  WB_CHECK(o.matmul(cs, y.fk, xmix_, 0, C, ffk_, 0, F_, n, Act::relu_sq));
  WB_CHECK(o.matmul(cs, y.fv, ffk_, 0, F_, x_, 0, C, n, Act::none, true));
  (void)stride;
  return {};
}

Status Rwkv7Vulkan::run(std::span<const int32_t> tokens, uint32_t T, std::span<State* const> states,
                        std::span<float> logits) {
  const uint32_t n_seq = static_cast<uint32_t>(states.size());
  const uint32_t n = static_cast<uint32_t>(tokens.size());
  const uint32_t C = C_, V = static_cast<uint32_t>(info_.n_vocab);
  if (n != T * n_seq || n > max_vec_) return make_error(Errc::internal, "vulkan rwkv7: bad batch shape");
  WB_CHECK(embed(tokens, static_cast<float*>(in_.mapped())));
  // States travel inside the same submit: copied straight into a mapped arena, or
  // through a host-visible stage with copies recorded around the work.
  const uint64_t sbytes = state_floats() * 4;
  Buffer& host_side = state_arena_.mapped() ? state_arena_ : state_stage_;
  for (uint32_t s = 0; s < n_seq; ++s)
    std::memcpy(static_cast<uint8_t*>(host_side.mapped()) + s * sbytes, states[s]->data().data(), sbytes);

  WB_CHECK(cs_.begin());
  if (state_stage_) WB_CHECK(cs_.copy(state_stage_, 0, state_arena_, 0, n_seq * sbytes));
  WB_CHECK(ops_.layer_norm(cs_, in_, 0, C, x_, 0, C, ln0_w_, ln0_b_, C, n, kLnEps));
  for (uint32_t l = 0; l < layers_.size(); ++l) WB_CHECK(record_layer(l, T, n_seq));
  if (!logits.empty()) {
    // Only each sequence's last token needs logits.
    WB_CHECK(ops_.layer_norm(cs_, x_, (T - 1) * C, T * C, xln_, 0, C, lnout_w_, lnout_b_, C, n_seq, kLnEps));
    WB_CHECK(ops_.matmul(cs_, head_, xln_, 0, C, logits_, 0, V, n_seq));
  }
  if (state_stage_) WB_CHECK(cs_.copy(state_arena_, 0, state_stage_, 0, n_seq * sbytes));
  WB_CHECK(cs_.submit_and_wait());

  for (uint32_t s = 0; s < n_seq; ++s)
    std::memcpy(states[s]->data().data(), static_cast<const uint8_t*>(host_side.mapped()) + s * sbytes, sbytes);
  if (!logits.empty()) WB_CHECK(ctx_->download(logits_, 0, logits.data(), uint64_t{n_seq} * V * 4));
  return {};
}

}  // namespace

Result<ModelInfo> rwkv7_info(const TensorFile& tf) {
  ModelInfo info;
  info.arch = Arch::v7;
  info.format = tf.format;
  info.path = tf.path;
  const TensorView* emb = tf.find("emb.weight");
  const TensorView* rk = tf.find("blocks.0.att.r_k");
  const TensorView* fk = tf.find("blocks.0.ffn.key.weight");
  if (!emb || emb->shape.size() != 2) return make_error(Errc::format, "{}: no 2-D emb.weight", tf.path);
  if (!rk || rk->shape.size() != 2) return make_error(Errc::format, "{}: not an RWKV-7 file (no att.r_k)", tf.path);
  if (!fk || fk->shape.size() != 2) return make_error(Errc::format, "{}: no 2-D ffn.key.weight", tf.path);
  info.n_vocab = static_cast<int>(emb->shape[0]);
  info.n_embd = static_cast<int>(emb->shape[1]);
  info.n_head = static_cast<int>(rk->shape[0]);
  info.head_size = static_cast<int>(rk->shape[1]);
  info.n_ffn = static_cast<int>(fk->shape[0]);
  if (info.n_head * info.head_size != info.n_embd)
    return make_error(Errc::format, "{}: r_k is {}x{} but n_embd is {}", tf.path, info.n_head, info.head_size,
                      info.n_embd);
  while (tf.find(fmt::format("blocks.{}.ln1.weight", info.n_layer))) ++info.n_layer;
  if (info.n_layer == 0) return make_error(Errc::format, "{}: no layers", tf.path);
  // params: every tensor; dtype: the type holding most elements of the matrices
  // (as the CPU runtime reports it, so model keys agree across backends).
  std::map<DType, uint64_t> by_type;
  for (const auto& t : tf.tensors) {
    info.params += t.numel();
    if (t.shape.size() >= 2) by_type[t.dtype] += t.numel();
  }
  DType best = DType::f32;
  uint64_t most = 0;
  for (auto [t, n] : by_type)
    if (n > most) most = n, best = t;
  info.dtype = dtype_name(best);
  auto fp = tf.meta.find("content_fingerprint");
  info.model_key = fmt::format("{}-{}-{}", fp != tf.meta.end() ? fp->second : "unhashed", info.format, info.dtype);
  info.group_norm_eps = kLnXEps;
  return info;
}

Result<std::unique_ptr<VulkanModel>> load_rwkv7_vulkan(const TensorFile& tf, const VulkanModelOptions& opt) {
  WB_TRY(info, rwkv7_info(tf));
  ContextOptions co;
  co.device_index = opt.device_index;
  co.validation = opt.validation;
  co.kernels = opt.kernels;
  co.map_device_memory = opt.map_device_memory;
  co.log = opt.log;
  WB_TRY(ctx, Context::create(co));
  auto m = std::make_unique<Rwkv7Vulkan>(std::move(ctx), std::move(info), opt);
  WB_CHECK(m->load(tf));
  return std::unique_ptr<VulkanModel>(std::move(m));
}

}  // namespace wb::vk
