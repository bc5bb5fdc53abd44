// RWKV-6 "Finch" on the CPU (ChatRWKV's v6 equations): data-dependent token
// shift (a 5-way LoRA) and data-dependent decay (a second LoRA).
//
// State per layer (floats): [ffn shift C][att shift C][WKV H x N x N], as v5
// (S[h][i][j], i key, j value). Layer stride 2C + C·N.
//
// Conventions: official checkpoints use time_maa_w1 (C, 5D) and
// time_decay_w1 (C, Dw) as x @ w1, time_decay_w2 (Dw, C) as h @ w2 and
// time_maa_w2 (5, D, C). rwkv.cpp stores w1/decay matrices transposed and
// time_maa_w2 as (5, C, D), so file-matrix · vector works directly.
// time_decay is raw in both; w = exp(-exp(time_decay + LoRA)). The five
// mixes are in the order w, k, v, r, g.
#include <cmath>

#include "core/model/cpu/cpu_model.hpp"

namespace wb::cpu {
namespace {

struct Layer6 {
  std::vector<float> ln1_w, ln1_b, maa_x, maa[5], decay, bonus, lnx_w, lnx_b;
  Mat maa_w1, maa_w2[5], decay_w1, decay_w2, wr, wk, wv, wo, wg;
  CpuModel::RkvFfn ffn;
};

class Rwkv6 final : public CpuModel {
 public:
  using CpuModel::CpuModel;
  Status init();

 protected:
  std::size_t state_floats() const override { return size_t(info_.n_layer) * stride(); }
  void run_blocks(float* x, int n, State* const* st) override;

 private:
  std::size_t stride() const { return 2 * size_t(C_) + size_t(C_) * N_; }
  void time_mix(const Layer6& L, int li, float* x, int n, State* const* st);
  std::vector<Layer6> layers_;
  int H_ = 0, N_ = 0, D_ = 0;
};

Status Rwkv6::init() {
  info_.arch = Arch::v6;
  WeightReader wr(tf_, dequantize_, store_);
  WB_CHECK(read_common(wr));
  info_.group_norm_eps = 64e-5f;
  WB_CHECK(read_meta_overrides());
  const bool cpp = wr.convention() == ValueConvention::rwkv_cpp;
  const int64_t C = C_;
  WB_TRY(tf0, wr.need("blocks.0.att.time_faaaa"));
  H_ = tf0->shape.empty() ? 0 : static_cast<int>(tf0->shape[0]);
  if (H_ <= 0 || C % H_ != 0 || H_ == C || tf0->numel() != static_cast<uint64_t>(C))
    return make_error(Errc::format, "{}: cannot infer heads from blocks.0.att.time_faaaa (shape starts {}, n_embd {})",
                      tf_.path, H_, C);
  N_ = static_cast<int>(C / H_);
  info_.n_head = H_;
  info_.head_size = N_;
  WB_TRY(w1, wr.need("blocks.0.att.time_maa_w1"));
  if (w1->shape.size() != 2) return make_error(Errc::format, "{}: time_maa_w1 should be 2-D", tf_.path);
  const int64_t d5 = cpp ? w1->shape[0] : w1->shape[1];
  if (d5 % 5 != 0 || d5 == 0)
    return make_error(Errc::format, "{}: time_maa_w1 width {} is not 5 x the mix LoRA size", tf_.path, d5);
  D_ = static_cast<int>(d5 / 5);

  layers_.resize(info_.n_layer);
  static const char* kMaa[5] = {"w", "k", "v", "r", "g"};
  for (int i = 0; i < info_.n_layer; ++i) {
    Layer6& L = layers_[i];
    const std::string p = fmt::format("blocks.{}.att.", i);
    WB_TRY(a, wr.vec(fmt::format("blocks.{}.ln1.weight", i), C));
    WB_TRY(b, wr.vec(fmt::format("blocks.{}.ln1.bias", i), C));
    L.ln1_w = std::move(a), L.ln1_b = std::move(b);
    WB_TRY(mx, wr.vec(p + "time_maa_x", C));
    L.maa_x = std::move(mx);
    for (int j = 0; j < 5; ++j) {
      WB_TRY(m, wr.vec(p + "time_maa_" + kMaa[j], C));
      L.maa[j] = std::move(m);
    }
    if (cpp) {
      WB_TRY(m1, wr.mat(p + "time_maa_w1", 5 * D_, C));
      L.maa_w1 = m1;
      for (int j = 0; j < 5; ++j) {
        WB_TRY(m2, wr.mat_slice(p + "time_maa_w2", 5, j, C, D_));
        L.maa_w2[j] = m2;
      }
    } else {
      WB_TRY(m1, wr.mat_transposed(p + "time_maa_w1", 5 * D_, C));
      L.maa_w1 = m1;
      for (int j = 0; j < 5; ++j) {
        WB_TRY(m2, wr.mat_slice_transposed(p + "time_maa_w2", 5, j, C, D_));
        L.maa_w2[j] = m2;
      }
    }
    WB_TRY(dw1, wr.need(p + "time_decay_w1"));
    if (dw1->shape.size() != 2) return make_error(Errc::format, "{}: {}time_decay_w1 should be 2-D", tf_.path, p);
    const int64_t dw = cpp ? dw1->shape[0] : dw1->shape[1];
    if (cpp) {
      WB_TRY(d1, wr.mat(p + "time_decay_w1", dw, C));
      WB_TRY(d2, wr.mat(p + "time_decay_w2", C, dw));
      L.decay_w1 = d1, L.decay_w2 = d2;
    } else {
      WB_TRY(d1, wr.mat_transposed(p + "time_decay_w1", dw, C));
      WB_TRY(d2, wr.mat_transposed(p + "time_decay_w2", C, dw));
      L.decay_w1 = d1, L.decay_w2 = d2;
    }
    WB_TRY(decay, wr.vec(p + "time_decay", C));
    WB_TRY(u, wr.vec(p + "time_faaaa", C));
    WB_TRY(lw, wr.vec(p + "ln_x.weight", C));
    WB_TRY(lb, wr.vec(p + "ln_x.bias", C));
    L.decay = std::move(decay), L.bonus = std::move(u), L.lnx_w = std::move(lw), L.lnx_b = std::move(lb);
    WB_TRY(wr_, wr.mat(p + "receptance.weight", C, C));
    WB_TRY(wk, wr.mat(p + "key.weight", C, C));
    WB_TRY(wv, wr.mat(p + "value.weight", C, C));
    WB_TRY(wo, wr.mat(p + "output.weight", C, C));
    WB_TRY(wg, wr.mat(p + "gate.weight", C, C));
    L.wr = wr_, L.wk = wk, L.wv = wv, L.wo = wo, L.wg = wg;
    WB_TRY(ffn, read_rkv_ffn(wr, i, true));
    L.ffn = std::move(ffn);
  }
  return {};
}

void Rwkv6::run_blocks(float* x, int n, State* const* st) {
  for (int li = 0; li < info_.n_layer; ++li) {
    time_mix(layers_[li], li, x, n, st);
    rkv_ffn(layers_[li].ffn, x, n, st, size_t(li) * stride());
    rescale_after_block(li, x, n);
  }
}

void Rwkv6::time_mix(const Layer6& L, int li, float* x, int n, State* const* st) {
  const size_t C = C_, nC = size_t(n) * C, base = size_t(li) * stride(), D = D_;
  std::vector<float> xa(nC), sx(nC), xxx(nC);
  layer_norm(x, xa.data(), n, L.ln1_w, L.ln1_b);
  token_shift(xa.data(), n, st, base + C, sx.data());
  for (size_t c = 0; c < nC; ++c) {
    sx[c] -= xa[c];
    xxx[c] = xa[c] + sx[c] * L.maa_x[c % C];
  }
  // Five mix offsets from one shared LoRA: lo = tanh(W1 xxx) split in 5 x D.
  std::vector<float> lo(size_t(n) * 5 * D);
  mm(L.maa_w1, xxx.data(), n, lo.data());
  for (float& t : lo) t = std::tanh(t);
  std::vector<float> part(size_t(n) * D), m(nC), mixed[5];
  for (int j = 0; j < 5; ++j) {
    for (int c = 0; c < n; ++c)
      std::copy_n(lo.data() + size_t(c) * 5 * D + size_t(j) * D, D, part.data() + size_t(c) * D);
    mm(L.maa_w2[j], part.data(), n, m.data());
    mixed[j].resize(nC);
    for (size_t c = 0; c < nC; ++c) mixed[j][c] = xa[c] + sx[c] * (L.maa[j][c % C] + m[c]);
  }
  // mixed: 0 w, 1 k, 2 v, 3 r, 4 g
  std::vector<float> r(nC), k(nC), v(nC), g(nC), w(nC), y(nC);
  mm(L.wr, mixed[3].data(), n, r.data());
  mm(L.wk, mixed[1].data(), n, k.data());
  mm(L.wv, mixed[2].data(), n, v.data());
  mm(L.wg, mixed[4].data(), n, g.data());
  {
    std::vector<float> h(size_t(n) * L.decay_w1.rows);
    mm(L.decay_w1, mixed[0].data(), n, h.data());
    for (float& t : h) t = std::tanh(t);
    mm(L.decay_w2, h.data(), n, w.data());
  }
  for (size_t c = 0; c < nC; ++c) w[c] = std::exp(-std::exp(L.decay[c % C] + w[c]));
  for (int c = 0; c < n; ++c) {
    const size_t o = size_t(c) * C;
    wkv5_step(st[c]->data().data() + base + 2 * C, r.data() + o, k.data() + o, v.data() + o, w.data() + o,
              L.bonus.data(), H_, N_, y.data() + o);
  }
  group_norm(y.data(), n, H_, L.lnx_w, L.lnx_b, info_.group_norm_eps);
  for (size_t c = 0; c < nC; ++c) y[c] *= g[c] * sigmoid(g[c]);  // silu gate
  std::vector<float> out(nC);
  mm(L.wo, y.data(), n, out.data());
  for (size_t c = 0; c < nC; ++c) x[c] += out[c];
}

}  // namespace

Result<std::unique_ptr<Model>> build_rwkv6(TensorFile tf, const LoadOptions& opt) {
  auto m = std::make_unique<Rwkv6>(std::move(tf), opt);
  WB_CHECK(m->init());
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace wb::cpu
