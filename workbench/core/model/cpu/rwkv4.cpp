// RWKV-4 on the CPU (ChatRWKV's v4 equations, numerically stable WKV with a
// running max exponent).
//
// State per layer (floats, rwkv.cpp's order): [ffn shift C][att shift C]
// [aa C][bb C][pp C]; pp starts at -1e30. Layer stride 5C.
//
// Conventions: rwkv.cpp stores time_decay as -exp(w); official checkpoints
// store w itself. time_first is raw in both.
#include <algorithm>
#include <cmath>

#include "core/model/cpu/cpu_model.hpp"

namespace wb::cpu {
namespace {

struct Layer4 {
  std::vector<float> ln1_w, ln1_b, shift_k, shift_v, shift_r, decay, first;
  Mat wk, wv, wr, wo;
  CpuModel::RkvFfn ffn;
};

class Rwkv4 final : public CpuModel {
 public:
  using CpuModel::CpuModel;
  Status init();

 protected:
  std::size_t state_floats() const override { return size_t(info_.n_layer) * 5 * C_; }
  void init_state(State& s) const override {
    for (int l = 0; l < info_.n_layer; ++l)
      std::fill_n(s.data().data() + size_t(l) * 5 * C_ + 4 * size_t(C_), C_, -1e30f);
  }
  void run_blocks(float* x, int n, State* const* st) override;

 private:
  void time_mix(const Layer4& L, int li, float* x, int n, State* const* st);
  std::vector<Layer4> layers_;
};

Status Rwkv4::init() {
  info_.arch = Arch::v4;
  WeightReader wr(tf_, dequantize_, store_);
  WB_CHECK(read_common(wr));
  WB_CHECK(read_meta_overrides());
  const int64_t C = C_;
  layers_.resize(info_.n_layer);
  for (int i = 0; i < info_.n_layer; ++i) {
    Layer4& L = layers_[i];
    const std::string p = fmt::format("blocks.{}.", i);
    WB_TRY(a, wr.vec(p + "ln1.weight", C));
    WB_TRY(b, wr.vec(p + "ln1.bias", C));
    WB_TRY(mk, wr.vec(p + "att.time_mix_k", C));
    WB_TRY(mv, wr.vec(p + "att.time_mix_v", C));
    WB_TRY(mr, wr.vec(p + "att.time_mix_r", C));
    WB_TRY(decay, wr.vec(p + "att.time_decay", C));
    WB_TRY(first, wr.vec(p + "att.time_first", C));
    for (auto* m : {&mk, &mv, &mr})
      for (float& t : *m) t = 1.0f - t;
    if (wr.convention() == ValueConvention::official)
      for (float& t : decay) t = -std::exp(t);
    L.ln1_w = std::move(a), L.ln1_b = std::move(b);
    L.shift_k = std::move(mk), L.shift_v = std::move(mv), L.shift_r = std::move(mr);
    L.decay = std::move(decay), L.first = std::move(first);
    WB_TRY(wk, wr.mat(p + "att.key.weight", C, C));
    WB_TRY(wv, wr.mat(p + "att.value.weight", C, C));
    WB_TRY(wr_, wr.mat(p + "att.receptance.weight", C, C));
    WB_TRY(wo, wr.mat(p + "att.output.weight", C, C));
    L.wk = wk, L.wv = wv, L.wr = wr_, L.wo = wo;
    WB_TRY(ffn, read_rkv_ffn(wr, i, false));
    L.ffn = std::move(ffn);
  }
  return {};
}

void Rwkv4::run_blocks(float* x, int n, State* const* st) {
  for (int li = 0; li < info_.n_layer; ++li) {
    time_mix(layers_[li], li, x, n, st);
    rkv_ffn(layers_[li].ffn, x, n, st, size_t(li) * 5 * C_);
    rescale_after_block(li, x, n);
  }
}

void Rwkv4::time_mix(const Layer4& L, int li, float* x, int n, State* const* st) {
  const size_t C = C_, nC = size_t(n) * C, base = size_t(li) * 5 * C;
  std::vector<float> xa(nC), prev(nC), xk(nC), xv(nC), xr(nC);
  layer_norm(x, xa.data(), n, L.ln1_w, L.ln1_b);
  token_shift(xa.data(), n, st, base + C, prev.data());
  for (size_t c = 0; c < nC; ++c) {
    const float d = prev[c] - xa[c];
    xk[c] = xa[c] + d * L.shift_k[c % C];
    xv[c] = xa[c] + d * L.shift_v[c % C];
    xr[c] = xa[c] + d * L.shift_r[c % C];
  }
  std::vector<float> k(nC), v(nC), r(nC), y(nC);
  mm(L.wk, xk.data(), n, k.data());
  mm(L.wv, xv.data(), n, v.data());
  mm(L.wr, xr.data(), n, r.data());
  for (int c = 0; c < n; ++c) {
    float* s = st[c]->data().data() + base;
    float *aa = s + 2 * C, *bb = s + 3 * C, *pp = s + 4 * C;
    for (size_t i = 0; i < C; ++i) {
      const size_t at = size_t(c) * C + i;
      const float kk = k[at], vv = v[at];
      float ww = L.first[i] + kk;
      float p = std::max(pp[i], ww);
      float e1 = std::exp(pp[i] - p), e2 = std::exp(ww - p);
      const float wkv = (e1 * aa[i] + e2 * vv) / (e1 * bb[i] + e2);
      ww = pp[i] + L.decay[i];
      p = std::max(ww, kk);
      e1 = std::exp(ww - p);
      e2 = std::exp(kk - p);
      aa[i] = e1 * aa[i] + e2 * vv;
      bb[i] = e1 * bb[i] + e2;
      pp[i] = p;
      y[at] = sigmoid(r[at]) * wkv;
    }
  }
  std::vector<float> out(nC);
  mm(L.wo, y.data(), n, out.data());
  for (size_t c = 0; c < nC; ++c) x[c] += out[c];
}

}  // namespace

Result<std::unique_ptr<Model>> build_rwkv4(TensorFile tf, const LoadOptions& opt) {
  auto m = std::make_unique<Rwkv4>(std::move(tf), opt);
  WB_CHECK(m->init());
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace wb::cpu
