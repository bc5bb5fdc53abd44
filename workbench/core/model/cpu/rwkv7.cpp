// RWKV-7 "Goose" on the CPU (BlinkDL's rwkv_v7_demo equations).
//
// State per layer (floats): [ffn shift C][att shift C][WKV H x N x N], the WKV
// matrix of head h stored as S[i][j] with i the value index and j the key
// index (so the read-out is S · r). Layer stride 2C + C·N.
//
// Conventions: rwkv.cpp files pack x_r..x_g into `att.x_rwkvag` and store the
// LoRA matrices (w1, w2, a1, a2, v1, v2, g1, g2) transposed, so file-matrix ·
// vector is PyTorch's vector @ w1; official checkpoints keep six (1,1,C)
// vectors and (C,D)/(D,C) matrices used as x @ w1. Layer 0's value-residual
// LoRA (v0, v1, v2) is unused and may be absent.
#include <algorithm>
#include <cmath>
#include <functional>

#include "core/model/cpu/cpu_model.hpp"

namespace wb::cpu {
namespace {

struct Layer7 {
  std::vector<float> ln1_w, ln1_b, ln2_w, ln2_b;
  std::vector<float> x_r, x_w, x_k, x_v, x_a, x_g, w0, a0, v0, k_k, k_a, r_k, lnx_w, lnx_b, ffn_x_k;
  Mat w1, w2, a1, a2, v1, v2, g1, g2, wr, wk, wv, wo, fk, fv;
};

class Rwkv7 final : public CpuModel {
 public:
  using CpuModel::CpuModel;
  Status init();

 protected:
  std::size_t state_floats() const override { return size_t(info_.n_layer) * stride(); }
  void run_blocks(float* x, int n, State* const* st) override;

 private:
  std::size_t stride() const { return 2 * size_t(C_) + size_t(C_) * N_; }
  Result<Mat> lora_in(WeightReader& wr, const std::string& name);
  Result<Mat> lora_out(WeightReader& wr, const std::string& name, int64_t d);
  void time_mix(const Layer7& L, int li, float* x, int n, State* const* st, float* vfirst);
  void channel_mix(const Layer7& L, int li, float* x, int n, State* const* st);
  void per_column(int n, const std::function<void(int64_t)>& fn);
  // Activation buffers kept between calls (grown, never shrunk): a prefill
  // chunk needs ~20 of n x C floats per layer, and fresh zeroed allocations
  // cost page faults and memsets on every call.
  struct Scratch {
    std::vector<float> xa, prev, xr, xw, xk, xv, xa_, xg, r, k, v, w, a, g, lo_w, lo_a, lo_g, lo_v, vmix, kk, kka, y, out, h,
        vfirst;
  };
  static float* grow(std::vector<float>& b, size_t n) {
    if (b.size() < n) b.resize(n);
    return b.data();
  }
  Scratch scratch_;
  std::vector<Layer7> layers_;
  int H_ = 0, N_ = 0;
};

// LoRA down-projection C -> D as a (D, C) matrix.
Result<Mat> Rwkv7::lora_in(WeightReader& wr, const std::string& name) {
  WB_TRY(t, wr.need(name));
  if (t->shape.size() != 2)
    return make_error(Errc::format, "{}: tensor '{}' should be 2-D", wr.path(), name);
  if (wr.convention() == ValueConvention::rwkv_cpp) return wr.mat(name, t->shape[0], C_);
  return wr.mat_transposed(name, t->shape[1], C_);
}

// LoRA up-projection D -> C as a (C, D) matrix.
Result<Mat> Rwkv7::lora_out(WeightReader& wr, const std::string& name, int64_t d) {
  if (wr.convention() == ValueConvention::rwkv_cpp) return wr.mat(name, C_, d);
  return wr.mat_transposed(name, C_, d);
}

Status Rwkv7::init() {
  info_.arch = Arch::v7;
  WeightReader wr(tf_, dequantize_, store_);
  WB_CHECK(read_common(wr));
  const int64_t C = C_;
  WB_TRY(rk, wr.need("blocks.0.att.r_k"));
  if (rk->shape.size() != 2 || rk->shape[0] <= 0 || rk->shape[0] * rk->shape[1] != C)
    return make_error(Errc::format, "{}: blocks.0.att.r_k has shape {}x{}, expected (heads, head_size) covering {}",
                      tf_.path, rk->shape.empty() ? 0 : rk->shape[0], rk->shape.size() > 1 ? rk->shape[1] : 0, C);
  H_ = static_cast<int>(rk->shape[0]);
  N_ = static_cast<int>(C / H_);
  info_.n_head = H_;
  info_.head_size = N_;
  info_.group_norm_eps = 64e-5f;
  WB_CHECK(read_meta_overrides());
  WB_TRY(fk0, wr.need("blocks.0.ffn.key.weight"));
  if (fk0->shape.size() != 2) return make_error(Errc::format, "{}: ffn.key.weight should be 2-D", tf_.path);
  const int64_t F = fk0->shape[0];
  info_.n_ffn = static_cast<int>(F);
  const bool packed = wr.convention() == ValueConvention::rwkv_cpp;

  layers_.resize(info_.n_layer);
  for (int i = 0; i < info_.n_layer; ++i) {
    Layer7& L = layers_[i];
    const std::string p = fmt::format("blocks.{}.", i);
    WB_TRY(a, wr.vec(p + "ln1.weight", C));
    WB_TRY(b, wr.vec(p + "ln1.bias", C));
    WB_TRY(c, wr.vec(p + "ln2.weight", C));
    WB_TRY(d, wr.vec(p + "ln2.bias", C));
    L.ln1_w = std::move(a), L.ln1_b = std::move(b), L.ln2_w = std::move(c), L.ln2_b = std::move(d);
    // rwkv.cpp (and GGUF) stack the six lerps; accept the stack in either convention.
    if (packed || wr.has(p + "att.x_rwkvag")) {
      WB_TRY(v6, wr.vec(p + "att.x_rwkvag", 6 * C));
      std::vector<float>* dst[6] = {&L.x_r, &L.x_w, &L.x_k, &L.x_v, &L.x_a, &L.x_g};
      for (int s = 0; s < 6; ++s) dst[s]->assign(v6.begin() + s * C, v6.begin() + (s + 1) * C);
    } else {
      const char* nm[6] = {"x_r", "x_w", "x_k", "x_v", "x_a", "x_g"};
      std::vector<float>* dst[6] = {&L.x_r, &L.x_w, &L.x_k, &L.x_v, &L.x_a, &L.x_g};
      for (int s = 0; s < 6; ++s) {
        WB_TRY(v, wr.vec(p + "att." + nm[s], C));
        *dst[s] = std::move(v);
      }
    }
    struct VecSpec { const char* name; std::vector<float>* dst; };
    for (VecSpec vs : {VecSpec{"att.w0", &L.w0}, VecSpec{"att.a0", &L.a0}, VecSpec{"att.k_k", &L.k_k},
                       VecSpec{"att.k_a", &L.k_a}, VecSpec{"att.r_k", &L.r_k}, VecSpec{"att.ln_x.weight", &L.lnx_w},
                       VecSpec{"att.ln_x.bias", &L.lnx_b}, VecSpec{"ffn.x_k", &L.ffn_x_k}}) {
      WB_TRY(v, wr.vec(p + vs.name, C));
      *vs.dst = std::move(v);
    }
    WB_TRY(w1, lora_in(wr, p + "att.w1"));
    WB_TRY(w2, lora_out(wr, p + "att.w2", w1.rows));
    WB_TRY(a1, lora_in(wr, p + "att.a1"));
    WB_TRY(a2, lora_out(wr, p + "att.a2", a1.rows));
    WB_TRY(g1, lora_in(wr, p + "att.g1"));
    WB_TRY(g2, lora_out(wr, p + "att.g2", g1.rows));
    L.w1 = w1, L.w2 = w2, L.a1 = a1, L.a2 = a2, L.g1 = g1, L.g2 = g2;
    if (i > 0) {  // layer 0 takes v_first as is: its v0/v1/v2 are unused
      WB_TRY(v0, wr.vec(p + "att.v0", C));
      WB_TRY(v1, lora_in(wr, p + "att.v1"));
      WB_TRY(v2, lora_out(wr, p + "att.v2", v1.rows));
      L.v0 = std::move(v0), L.v1 = v1, L.v2 = v2;
    }
    WB_TRY(wr_, wr.mat(p + "att.receptance.weight", C, C));
    WB_TRY(wk, wr.mat(p + "att.key.weight", C, C));
    WB_TRY(wv, wr.mat(p + "att.value.weight", C, C));
    WB_TRY(wo, wr.mat(p + "att.output.weight", C, C));
    WB_TRY(fk, wr.mat(p + "ffn.key.weight", F, C));
    WB_TRY(fv, wr.mat(p + "ffn.value.weight", C, F));
    L.wr = wr_, L.wk = wk, L.wv = wv, L.wo = wo, L.fk = fk, L.fv = fv;
  }
  return {};
}

void Rwkv7::run_blocks(float* x, int n, State* const* st) {
  float* vfirst = grow(scratch_.vfirst, size_t(n) * C_);
  for (int li = 0; li < info_.n_layer; ++li) {
    time_mix(layers_[li], li, x, n, st, vfirst);
    channel_mix(layers_[li], li, x, n, st);
    rescale_after_block(li, x, n);
  }
}

// Runs fn(c) for every column: on all threads for a prefill chunk or a batch,
// so the per-token element work does not leave the other cores idle between
// matrix products.
void Rwkv7::per_column(int n, const std::function<void(int64_t)>& fn) {
  if (n >= 4 && pool_.size() > 1)
    pool_.parallel_for(n, fn);
  else
    for (int c = 0; c < n; ++c) fn(c);
}

void Rwkv7::time_mix(const Layer7& L, int li, float* x, int n, State* const* st, float* vfirst) {
  const size_t C = C_, nC = size_t(n) * C;
  const size_t base = size_t(li) * stride();
  Scratch& s = scratch_;
  float *xa = grow(s.xa, nC), *prev = grow(s.prev, nC);
  per_column(n, [&](int64_t c) { layer_norm(x + c * C, xa + c * C, 1, L.ln1_w, L.ln1_b); });
  token_shift(xa, n, st, base + C, prev);
  float *xr = grow(s.xr, nC), *xw = grow(s.xw, nC), *xk = grow(s.xk, nC), *xv = grow(s.xv, nC);
  float *xa_ = grow(s.xa_, nC), *xg = grow(s.xg, nC);
  per_column(n, [&](int64_t c) {
    for (size_t i = 0, o = c * C; i < C; ++i, ++o) {
      const float d = prev[o] - xa[o];
      xr[o] = xa[o] + d * L.x_r[i];
      xw[o] = xa[o] + d * L.x_w[i];
      xk[o] = xa[o] + d * L.x_k[i];
      xv[o] = xa[o] + d * L.x_v[i];
      xa_[o] = xa[o] + d * L.x_a[i];
      xg[o] = xa[o] + d * L.x_g[i];
    }
  });
  float *r = grow(s.r, nC), *k = grow(s.k, nC), *v = grow(s.v, nC), *w = grow(s.w, nC), *a = grow(s.a, nC);
  float* g = grow(s.g, nC);
  // The seven products of the mixed inputs are independent: one parallel job,
  // then the four LoRA up-projections as a second one.
  float *lo_w = grow(s.lo_w, size_t(n) * L.w1.rows), *lo_a = grow(s.lo_a, size_t(n) * L.a1.rows);
  float* lo_g = grow(s.lo_g, size_t(n) * L.g1.rows);
  float* vmix = li > 0 ? grow(s.vmix, nC) : nullptr;
  float* lo_v = li > 0 ? grow(s.lo_v, size_t(n) * L.v1.rows) : nullptr;
  // The value-residual LoRA comes last in each list: layer 0 has none.
  const int residual = li > 0 ? 1 : 0;
  const MatJob down[] = {{&L.wr, xr, r},       {&L.wk, xk, k},       {&L.wv, xv, v},      {&L.w1, xw, lo_w},
                         {&L.a1, xa_, lo_a},   {&L.g1, xg, lo_g},    {&L.v1, xv, lo_v}};
  matmul_group(down, 6 + residual, n, pool_);
  for (size_t t = 0; t < size_t(n) * L.w1.rows; ++t) lo_w[t] = std::tanh(lo_w[t]);
  sigmoid_inplace(lo_g, int64_t(n) * L.g1.rows);
  const MatJob up[] = {{&L.w2, lo_w, w}, {&L.a2, lo_a, a}, {&L.g2, lo_g, g}, {&L.v2, lo_v, vmix}};
  matmul_group(up, 3 + residual, n, pool_);
  float *kk = grow(s.kk, nC), *kka = grow(s.kka, nC);
  per_column(n, [&](int64_t c) {
    // The transcendental parts go through the vector exp/sigmoid in place.
    float *wc = w + c * C, *ac = a + c * C, *vm = li > 0 ? vmix + c * C : nullptr;
    for (size_t i = 0; i < C; ++i) wc[i] += L.w0[i], ac[i] += L.a0[i];
    sigmoid_inplace(wc, int64_t(C));
    for (size_t i = 0; i < C; ++i) wc[i] *= -0.606531f;
    exp_inplace(wc, int64_t(C));
    sigmoid_inplace(ac, int64_t(C));
    if (vm) {
      for (size_t i = 0; i < C; ++i) vm[i] += L.v0[i];
      sigmoid_inplace(vm, int64_t(C));
    }
    for (size_t i = 0, o = c * C; i < C; ++i, ++o) {
      kk[o] = k[o] * L.k_k[i];
      k[o] = k[o] * (1.0f + (a[o] - 1.0f) * L.k_a[i]);
      if (li == 0)
        vfirst[o] = v[o];
      else
        v[o] = v[o] + (vfirst[o] - v[o]) * vmix[o];
    }
    // kk: unit length per head (F.normalize, eps 1e-12).
    for (int h = 0; h < H_; ++h) {
      float* q = kk + c * C + size_t(h) * N_;
      double ss = 0;
      for (int j = 0; j < N_; ++j) ss += double(q[j]) * q[j];
      const float inv = 1.0f / std::max(static_cast<float>(std::sqrt(ss)), 1e-12f);
      for (int j = 0; j < N_; ++j) q[j] *= inv;
    }
    for (size_t i = 0, o = c * C; i < C; ++i, ++o) kka[o] = kk[o] * a[o];
  });
  // The WKV recurrence runs column after column (it is sequential in time);
  // heads are independent, so threads split the heads.
  float* y = grow(s.y, nC);
  auto wkv_head = [&](int64_t h) {
    for (int c = 0; c < n; ++c) {
      float* Sh = st[c]->data().data() + base + 2 * C + size_t(h) * N_ * N_;
      const size_t ho = size_t(c) * C + size_t(h) * N_;
      wkv7_step(Sh, N_, r + ho, w + ho, k + ho, v + ho, kk + ho, kka + ho, y + ho);
    }
  };
  if (n * H_ >= 8)
    pool_.parallel_for(H_, wkv_head);
  else
    for (int h = 0; h < H_; ++h) wkv_head(h);
  per_column(n, [&](int64_t c) {
    group_norm(y + c * C, 1, H_, L.lnx_w, L.lnx_b, info_.group_norm_eps);
    for (int h = 0; h < H_; ++h) {
      const size_t ho = size_t(c) * C + size_t(h) * N_;
      float t = 0;
      for (int j = 0; j < N_; ++j) t += r[ho + j] * k[ho + j] * L.r_k[size_t(h) * N_ + j];
      for (int j = 0; j < N_; ++j) y[ho + j] = (y[ho + j] + t * v[ho + j]) * g[ho + j];
    }
  });
  float* out = grow(s.out, nC);
  mm(L.wo, y, n, out);
  for (size_t c = 0; c < nC; ++c) x[c] += out[c];
}

void Rwkv7::channel_mix(const Layer7& L, int li, float* x, int n, State* const* st) {
  const size_t C = C_, nC = size_t(n) * C, F = size_t(info_.n_ffn);
  const size_t base = size_t(li) * stride();
  Scratch& s = scratch_;
  float *xf = grow(s.xa, nC), *prev = grow(s.prev, nC);
  per_column(n, [&](int64_t c) { layer_norm(x + c * C, xf + c * C, 1, L.ln2_w, L.ln2_b); });
  token_shift(xf, n, st, base, prev);
  for (size_t c = 0, o = 0; c < size_t(n); ++c)
    for (size_t i = 0; i < C; ++i, ++o) xf[o] += (prev[o] - xf[o]) * L.ffn_x_k[i];
  float *h = grow(s.h, size_t(n) * F), *out = grow(s.out, nC);
  mm(L.fk, xf, n, h);
  relu_square_inplace(h, int64_t(n) * int64_t(F));
  mm(L.fv, h, n, out);
  for (size_t c = 0; c < nC; ++c) x[c] += out[c];
}

}  // namespace

Result<std::unique_ptr<Model>> build_rwkv7(TensorFile tf, const LoadOptions& opt) {
  auto m = std::make_unique<Rwkv7>(std::move(tf), opt);
  WB_CHECK(m->init());
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace wb::cpu
