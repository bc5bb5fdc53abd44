// RWKV-5 on the CPU: 5.1 (rwkv.cpp "5v1": ln_x, no gate, one decay per head)
// and 5.2 (gate, per-channel decay and bonus), ChatRWKV's v5 equations.
//
// State per layer (floats): [ffn shift C][att shift C][WKV H x N x N], the WKV
// matrix of head h as S[i][j] with i the key index, j the value index. Layer
// stride 2C + C·N (rwkv.cpp's layout).
//
// Conventions: rwkv.cpp stores time_decay as exp(-exp(w)) and 5.1's
// time_first as exp(u); official checkpoints store w and u. The group-norm
// epsilon follows the ecosystem (fixtures README §7): 1e-5 for rwkv.cpp files,
// 64e-5 (BlinkDL) otherwise.
#include <cmath>

#include "core/model/cpu/cpu_model.hpp"

namespace wb::cpu {
namespace {

struct Layer5 {
  std::vector<float> ln1_w, ln1_b, shift_k, shift_v, shift_r, shift_g, decay, bonus, lnx_w, lnx_b;
  Mat wk, wv, wr, wo, wg;
  CpuModel::RkvFfn ffn;
};

class Rwkv5 final : public CpuModel {
 public:
  using CpuModel::CpuModel;
  Status init(Arch arch);

 protected:
  std::size_t state_floats() const override { return size_t(info_.n_layer) * stride(); }
  void run_blocks(float* x, int n, State* const* st) override;

 private:
  std::size_t stride() const { return 2 * size_t(C_) + size_t(C_) * N_; }
  Result<std::vector<float>> per_channel(WeightReader& wr, const std::string& name);
  void time_mix(const Layer5& L, int li, float* x, int n, State* const* st);
  std::vector<Layer5> layers_;
  int H_ = 0, N_ = 0;
  bool gate_ = false;
};

// A per-head (H values) or per-channel (C values) parameter, as C values.
Result<std::vector<float>> Rwkv5::per_channel(WeightReader& wr, const std::string& name) {
  WB_TRY(t, wr.need(name));
  if (t->numel() == static_cast<uint64_t>(C_)) return wr.vec(name, C_);
  WB_TRY(h, wr.vec(name, H_));
  std::vector<float> c(C_);
  for (int i = 0; i < C_; ++i) c[i] = h[i / N_];
  return c;
}

Status Rwkv5::init(Arch arch) {
  info_.arch = arch;
  gate_ = arch == Arch::v5_2;
  WeightReader wr(tf_, dequantize_, store_);
  WB_CHECK(read_common(wr));
  const bool cpp = wr.convention() == ValueConvention::rwkv_cpp;
  info_.group_norm_eps = cpp ? 1e-5f : 64e-5f;
  WB_CHECK(read_meta_overrides());
  const int64_t C = C_;
  WB_TRY(td, wr.need("blocks.0.att.time_decay"));
  H_ = td->shape.empty() ? 0 : static_cast<int>(td->shape[0]);
  if (H_ <= 0 || C % H_ != 0 || H_ == C)
    return make_error(Errc::format, "{}: cannot infer heads from blocks.0.att.time_decay (first dim {}, n_embd {})",
                      tf_.path, H_, C);
  N_ = static_cast<int>(C / H_);
  info_.n_head = H_;
  info_.head_size = N_;
  layers_.resize(info_.n_layer);
  for (int i = 0; i < info_.n_layer; ++i) {
    Layer5& L = layers_[i];
    const std::string p = fmt::format("blocks.{}.", i);
    WB_TRY(a, wr.vec(p + "ln1.weight", C));
    WB_TRY(b, wr.vec(p + "ln1.bias", C));
    WB_TRY(mk, wr.vec(p + "att.time_mix_k", C));
    WB_TRY(mv, wr.vec(p + "att.time_mix_v", C));
    WB_TRY(mr, wr.vec(p + "att.time_mix_r", C));
    for (auto* m : {&mk, &mv, &mr})
      for (float& t : *m) t = 1.0f - t;
    if (gate_) {
      WB_TRY(mg, wr.vec(p + "att.time_mix_g", C));
      for (float& t : mg) t = 1.0f - t;
      L.shift_g = std::move(mg);
    }
    WB_TRY(decay, per_channel(wr, p + "att.time_decay"));
    if (!cpp)
      for (float& t : decay) t = std::exp(-std::exp(t));
    if (gate_) {
      WB_TRY(u, per_channel(wr, p + "att.time_faaaa"));
      L.bonus = std::move(u);
    } else {
      WB_TRY(u, per_channel(wr, p + "att.time_first"));
      if (!cpp)  // 5.0/5.1 use exp(time_first) as the bonus; rwkv.cpp stored it so
        for (float& t : u) t = std::exp(t);
      L.bonus = std::move(u);
    }
    WB_TRY(lw, wr.vec(p + "att.ln_x.weight", C));
    WB_TRY(lb, wr.vec(p + "att.ln_x.bias", C));
    L.ln1_w = std::move(a), L.ln1_b = std::move(b), L.lnx_w = std::move(lw), L.lnx_b = std::move(lb);
    L.shift_k = std::move(mk), L.shift_v = std::move(mv), L.shift_r = std::move(mr), L.decay = std::move(decay);
    WB_TRY(wk, wr.mat(p + "att.key.weight", C, C));
    WB_TRY(wv, wr.mat(p + "att.value.weight", C, C));
    WB_TRY(wr_, wr.mat(p + "att.receptance.weight", C, C));
    WB_TRY(wo, wr.mat(p + "att.output.weight", C, C));
    L.wk = wk, L.wv = wv, L.wr = wr_, L.wo = wo;
    if (gate_) {
      WB_TRY(wg, wr.mat(p + "att.gate.weight", C, C));
      L.wg = wg;
    }
    WB_TRY(ffn, read_rkv_ffn(wr, i, false));
    L.ffn = std::move(ffn);
  }
  return {};
}

void Rwkv5::run_blocks(float* x, int n, State* const* st) {
  for (int li = 0; li < info_.n_layer; ++li) {
    time_mix(layers_[li], li, x, n, st);
    rkv_ffn(layers_[li].ffn, x, n, st, size_t(li) * stride());
    rescale_after_block(li, x, n);
  }
}

void Rwkv5::time_mix(const Layer5& L, int li, float* x, int n, State* const* st) {
  const size_t C = C_, nC = size_t(n) * C, base = size_t(li) * stride();
  std::vector<float> xa(nC), prev(nC), xk(nC), xv(nC), xr(nC), xg(gate_ ? nC : 0);
  layer_norm(x, xa.data(), n, L.ln1_w, L.ln1_b);
  token_shift(xa.data(), n, st, base + C, prev.data());
  for (size_t c = 0; c < nC; ++c) {
    const float d = prev[c] - xa[c];
    xk[c] = xa[c] + d * L.shift_k[c % C];
    xv[c] = xa[c] + d * L.shift_v[c % C];
    xr[c] = xa[c] + d * L.shift_r[c % C];
    if (gate_) xg[c] = xa[c] + d * L.shift_g[c % C];
  }
  std::vector<float> k(nC), v(nC), r(nC), g(gate_ ? nC : 0), y(nC);
  mm(L.wk, xk.data(), n, k.data());
  mm(L.wv, xv.data(), n, v.data());
  mm(L.wr, xr.data(), n, r.data());
  if (gate_) mm(L.wg, xg.data(), n, g.data());
  for (int c = 0; c < n; ++c) {
    const size_t o = size_t(c) * C;
    wkv5_step(st[c]->data().data() + base + 2 * C, r.data() + o, k.data() + o, v.data() + o, L.decay.data(),
              L.bonus.data(), H_, N_, y.data() + o);
  }
  group_norm(y.data(), n, H_, L.lnx_w, L.lnx_b, info_.group_norm_eps);
  if (gate_)
    for (size_t c = 0; c < nC; ++c) y[c] *= g[c] * sigmoid(g[c]);  // silu
  std::vector<float> out(nC);
  mm(L.wo, y.data(), n, out.data());
  for (size_t c = 0; c < nC; ++c) x[c] += out[c];
}

}  // namespace

Result<std::unique_ptr<Model>> build_rwkv5(TensorFile tf, const LoadOptions& opt, Arch arch) {
  auto m = std::make_unique<Rwkv5>(std::move(tf), opt);
  WB_CHECK(m->init(arch));
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace wb::cpu
