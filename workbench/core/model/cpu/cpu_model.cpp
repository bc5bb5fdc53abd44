#include "core/model/cpu/cpu_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

namespace wb::cpu {

// ---------------------------------------------------------------- weights

Result<const TensorView*> WeightReader::need(const std::string& name) const {
  const TensorView* t = tf_.find(name);
  if (!t) return make_error(Errc::format, "{}: missing tensor '{}'", tf_.path, name);
  return t;
}

Result<std::vector<float>> WeightReader::all_f32(const TensorView& t) const {
  const uint64_t n = t.numel();
  if (n % static_cast<uint64_t>(dtype_block_elems(t.dtype)) != 0)
    return make_error(Errc::format, "{}: tensor '{}' is not a whole number of blocks", tf_.path, t.name);
  WB_TRY(nb, dtype_bytes_for(t.dtype, n));
  if (nb > t.nbytes) return make_error(Errc::format, "{}: tensor '{}' has too few bytes", tf_.path, t.name);
  std::vector<float> v(n);
  dequantize_row(t.dtype, t.data, v.data(), static_cast<int64_t>(n));
  return v;
}

Result<std::vector<float>> WeightReader::vec(const std::string& name, int64_t numel) const {
  WB_TRY(t, need(name));
  if (t->numel() != static_cast<uint64_t>(numel))
    return make_error(Errc::format, "{}: tensor '{}' has {} elements, expected {}", tf_.path, name, t->numel(), numel);
  return all_f32(*t);
}

Mat WeightReader::own(std::vector<float> v, int64_t rows, int64_t cols, DType dtype) {
  store_.push_back(std::move(v));  // moving a vector keeps its buffer, so the pointer stays valid
  Mat m;
  m.dtype = dtype;
  m.rows = rows;
  m.cols = cols;
  m.data = reinterpret_cast<const uint8_t*>(store_.back().data());
  m.row_bytes = static_cast<uint64_t>(cols) * (dtype == DType::f16 ? 2 : 4);
  return m;
}

static std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "(";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + ")";
}

// Size-1 dimensions are ignored when comparing shapes: converters squeeze them.
static bool same_shape(const std::vector<int64_t>& got, std::vector<int64_t> want) {
  std::vector<int64_t> g;
  for (int64_t d : got)
    if (d != 1) g.push_back(d);
  std::erase(want, int64_t(1));
  return g == want;
}

Result<Mat> WeightReader::mat(const std::string& name, int64_t rows, int64_t cols) {
  WB_TRY(t, need(name));
  if (!same_shape(t->shape, {rows, cols}))
    return make_error(Errc::format, "{}: tensor '{}' has shape {}, expected ({}, {})", tf_.path, name,
                      shape_str(t->shape), rows, cols);
  if (dequantize_ && t->dtype != DType::f32) {
    WB_TRY(v, all_f32(*t));
    return own(std::move(v), rows, cols);
  }
  if (cols % dtype_block_elems(t->dtype) != 0)
    return make_error(Errc::format, "{}: tensor '{}': rows of {} are not whole {} blocks", tf_.path, name, cols,
                      dtype_name(t->dtype));
  Mat m;
  m.dtype = t->dtype;
  m.rows = rows;
  m.cols = cols;
  m.data = t->data;
  m.row_bytes = static_cast<uint64_t>(cols / dtype_block_elems(t->dtype)) * dtype_block_bytes(t->dtype);
  return m;
}

Result<Mat> WeightReader::mat_transposed(const std::string& name, int64_t rows, int64_t cols) {
  WB_TRY(t, need(name));
  if (!same_shape(t->shape, {cols, rows}))
    return make_error(Errc::format, "{}: tensor '{}' has shape {}, expected ({}, {})", tf_.path, name,
                      shape_str(t->shape), cols, rows);
  if (t->dtype == DType::f16 && !dequantize_) {
    const size_t n = static_cast<size_t>(rows * cols);
    std::vector<float> buf((n + 1) / 2);  // the halves, two per float slot
    auto* dst = reinterpret_cast<uint8_t*>(buf.data());
    for (int64_t c = 0; c < cols; ++c)
      for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + 2 * (r * cols + c), t->data + 2 * (c * rows + r), 2);
    return own(std::move(buf), rows, cols, DType::f16);
  }
  WB_TRY(v, all_f32(*t));
  std::vector<float> tr(v.size());
  for (int64_t c = 0; c < cols; ++c)
    for (int64_t r = 0; r < rows; ++r) tr[r * cols + c] = v[c * rows + r];
  return own(std::move(tr), rows, cols);
}

Result<Mat> WeightReader::mat_slice(const std::string& name, int64_t k, int64_t s, int64_t rows, int64_t cols) {
  WB_TRY(t, need(name));
  if (!same_shape(t->shape, {k, rows, cols}))
    return make_error(Errc::format, "{}: tensor '{}' has shape {}, expected ({}, {}, {})", tf_.path, name,
                      shape_str(t->shape), k, rows, cols);
  WB_TRY(v, all_f32(*t));
  std::vector<float> part(v.begin() + s * rows * cols, v.begin() + (s + 1) * rows * cols);
  return own(std::move(part), rows, cols);
}

Result<Mat> WeightReader::mat_slice_transposed(const std::string& name, int64_t k, int64_t s, int64_t rows,
                                               int64_t cols) {
  WB_TRY(t, need(name));
  if (!same_shape(t->shape, {k, cols, rows}))
    return make_error(Errc::format, "{}: tensor '{}' has shape {}, expected ({}, {}, {})", tf_.path, name,
                      shape_str(t->shape), k, cols, rows);
  WB_TRY(v, all_f32(*t));
  std::vector<float> tr(static_cast<size_t>(rows * cols));
  const float* base = v.data() + s * rows * cols;
  for (int64_t c = 0; c < cols; ++c)
    for (int64_t r = 0; r < rows; ++r) tr[r * cols + c] = base[c * rows + r];
  return own(std::move(tr), rows, cols);
}

int count_layers(const TensorFile& tf) {
  int n = 0;
  while (tf.find(fmt::format("blocks.{}.ln1.weight", n))) ++n;
  return n;
}

// ---------------------------------------------------------------- model

CpuModel::CpuModel(TensorFile tf, const LoadOptions& opt)
    : tf_(std::move(tf)), pool_(opt.threads), dequantize_(opt.dequantize_to_f32) {}

Status CpuModel::read_common(WeightReader& wr) {
  WB_TRY(emb, wr.need("emb.weight"));
  if (emb->shape.size() != 2 || emb->shape[0] <= 0 || emb->shape[1] <= 0)
    return make_error(Errc::format, "{}: emb.weight has shape {}, expected (n_vocab, n_embd)", tf_.path,
                      shape_str(emb->shape));
  const int64_t V = emb->shape[0], C = emb->shape[1];
  if (V > (1 << 24) || C > (1 << 16))
    return make_error(Errc::limit, "{}: implausible sizes n_vocab={} n_embd={}", tf_.path, V, C);
  C_ = static_cast<int>(C);
  info_.n_vocab = static_cast<int>(V);
  info_.n_embd = C_;
  info_.n_layer = count_layers(tf_);
  if (info_.n_layer == 0) return make_error(Errc::format, "{}: no blocks (missing 'blocks.0.ln1.weight')", tf_.path);
  WB_TRY(e, wr.mat("emb.weight", V, C));
  emb_ = e;
  WB_TRY(h, wr.mat("head.weight", V, C));
  head_ = h;
  WB_TRY(a, wr.vec("blocks.0.ln0.weight", C));
  WB_TRY(b, wr.vec("blocks.0.ln0.bias", C));
  WB_TRY(c, wr.vec("ln_out.weight", C));
  WB_TRY(d, wr.vec("ln_out.bias", C));
  ln0_w_ = std::move(a);
  ln0_b_ = std::move(b);
  lnout_w_ = std::move(c);
  lnout_b_ = std::move(d);

  info_.format = tf_.format;
  info_.path = tf_.path;
  // params: every tensor; dtype: the type holding most elements of the 2-D matrices.
  std::map<DType, uint64_t> by_type;
  info_.params = 0;
  for (const TensorView& t : tf_.tensors) {
    info_.params += t.numel();
    if (t.shape.size() >= 2) by_type[t.dtype] += t.numel();
  }
  DType best = DType::f32;
  uint64_t most = 0;
  for (auto [t, n] : by_type)
    if (n > most) most = n, best = t;
  // With dequantize_to_f32 every matrix in use is f32 (and the key says so).
  info_.dtype = dequantize_ ? "f32" : dtype_name(best);
  // Snapshots are keyed to this: content fingerprint (set by load_model), container, main dtype.
  auto fp = tf_.meta.find("content_fingerprint");
  info_.model_key = fmt::format("{}-{}-{}", fp != tf_.meta.end() ? fp->second : "unhashed", info_.format, info_.dtype);
  auto wm = tf_.meta.find("weight_memory");
  info_.weight_memory = wm != tf_.meta.end() ? wm->second : "owned";
  return {};
}

State CpuModel::new_state() const {
  State s(state_floats());
  init_state(s);
  return s;
}

Status CpuModel::check_state(const State& s) const {
  if (s.data().size() != state_floats())
    return make_error(Errc::invalid_argument, "state has {} floats, this {} model needs {}", s.data().size(),
                      arch_name(info_.arch), state_floats());
  return {};
}

Status CpuModel::prefill(std::span<const int32_t> tokens, State& state, std::span<float> logits) {
  WB_CHECK(check_state(state));
  if (!logits.empty() && logits.size() != static_cast<size_t>(info_.n_vocab))
    return make_error(Errc::invalid_argument, "logits span has {} floats, n_vocab is {}", logits.size(), info_.n_vocab);
  if (tokens.empty()) {
    if (!logits.empty()) return make_error(Errc::invalid_argument, "prefill of no tokens cannot give logits");
    return {};
  }
  std::vector<State*> st(kChunk, &state);
  for (std::size_t at = 0; at < tokens.size(); at += kChunk) {
    const std::size_t n = std::min<std::size_t>(kChunk, tokens.size() - at);
    const bool last = at + n == tokens.size();
    WB_CHECK(forward(tokens.subspan(at, n), st.data(), last && !logits.empty() ? logits.data() : nullptr, false));
  }
  return {};
}

Status CpuModel::decode(std::span<const int32_t> tokens, std::span<State* const> states, std::span<float> logits) {
  if (tokens.size() != states.size())
    return make_error(Errc::invalid_argument, "decode: {} tokens for {} states", tokens.size(), states.size());
  if (tokens.empty()) return {};
  if (!logits.empty() && logits.size() != tokens.size() * static_cast<size_t>(info_.n_vocab))
    return make_error(Errc::invalid_argument, "decode: logits span has {} floats, need {} x {}", logits.size(),
                      tokens.size(), info_.n_vocab);
  std::set<const State*> seen;
  for (State* s : states) {
    if (!s) return make_error(Errc::invalid_argument, "decode: null state");
    if (!seen.insert(s).second) return make_error(Errc::invalid_argument, "decode: the same state appears twice");
    WB_CHECK(check_state(*s));
  }
  return forward(tokens, states.data(), logits.empty() ? nullptr : logits.data(), true);
}

Status CpuModel::forward(std::span<const int32_t> tokens, State* const* st, float* logits, bool all_columns) {
  const int n = static_cast<int>(tokens.size());
  for (int32_t t : tokens)
    if (t < 0 || t >= info_.n_vocab)
      return make_error(Errc::out_of_range, "token {} outside the vocabulary (0..{})", t, info_.n_vocab - 1);
  std::vector<float> x(static_cast<size_t>(n) * C_);
  for (int c = 0; c < n; ++c) dequantize_row(emb_.dtype, emb_.row(tokens[c]), x.data() + size_t(c) * C_, C_);
  layer_norm(x.data(), x.data(), n, ln0_w_, ln0_b_);
  run_blocks(x.data(), n, st);
  if (!logits) return {};
  const int first = all_columns ? 0 : n - 1;
  const int m = n - first;
  std::vector<float> xo(static_cast<size_t>(m) * C_);
  layer_norm(x.data() + size_t(first) * C_, xo.data(), m, lnout_w_, lnout_b_);
  mm(head_, xo.data(), m, logits);
  return {};
}

void CpuModel::layer_norm(const float* x, float* y, int n, const std::vector<float>& w,
                          const std::vector<float>& b) const {
  for (int c = 0; c < n; ++c) {
    const float* xi = x + size_t(c) * C_;
    float* yi = y + size_t(c) * C_;
    double mean = 0, var = 0;
    for (int i = 0; i < C_; ++i) mean += xi[i];
    mean /= C_;
    for (int i = 0; i < C_; ++i) var += (xi[i] - mean) * (xi[i] - mean);
    var /= C_;
    const double inv = 1.0 / std::sqrt(var + 1e-5);
    for (int i = 0; i < C_; ++i) yi[i] = static_cast<float>((xi[i] - mean) * inv) * w[i] + b[i];
  }
}

void CpuModel::group_norm(float* x, int n, int groups, const std::vector<float>& w, const std::vector<float>& b,
                          float eps) const {
  const int g = C_ / groups;
  for (int c = 0; c < n; ++c)
    for (int h = 0; h < groups; ++h) {
      float* xi = x + size_t(c) * C_ + size_t(h) * g;
      double mean = 0, var = 0;
      for (int i = 0; i < g; ++i) mean += xi[i];
      mean /= g;
      for (int i = 0; i < g; ++i) var += (xi[i] - mean) * (xi[i] - mean);
      var /= g;
      const double inv = 1.0 / std::sqrt(var + double(eps));
      for (int i = 0; i < g; ++i) xi[i] = static_cast<float>((xi[i] - mean) * inv) * w[h * g + i] + b[h * g + i];
    }
}

void CpuModel::token_shift(const float* xa, int n, State* const* st, std::size_t off, float* prev) const {
  for (int c = 0; c < n; ++c) {
    const float* src = (c > 0 && st[c] == st[c - 1]) ? xa + size_t(c - 1) * C_ : st[c]->data().data() + off;
    std::memcpy(prev + size_t(c) * C_, src, sizeof(float) * C_);
  }
  for (int c = 0; c < n; ++c)
    if (c == n - 1 || st[c + 1] != st[c]) std::memcpy(st[c]->data().data() + off, xa + size_t(c) * C_, sizeof(float) * C_);
}

Result<CpuModel::RkvFfn> CpuModel::read_rkv_ffn(WeightReader& wr, int li, bool v6_names) {
  const std::string p = fmt::format("blocks.{}.", li);
  const int64_t C = C_;
  RkvFfn f;
  WB_TRY(a, wr.vec(p + "ln2.weight", C));
  WB_TRY(b, wr.vec(p + "ln2.bias", C));
  WB_TRY(mk, wr.vec(p + (v6_names ? "ffn.time_maa_k" : "ffn.time_mix_k"), C));
  WB_TRY(mr, wr.vec(p + (v6_names ? "ffn.time_maa_r" : "ffn.time_mix_r"), C));
  if (!v6_names) {  // x*mix + prev*(1-mix) == x + (prev-x)*(1-mix)
    for (float& t : mk) t = 1.0f - t;
    for (float& t : mr) t = 1.0f - t;
  }
  f.ln_w = std::move(a), f.ln_b = std::move(b), f.shift_k = std::move(mk), f.shift_r = std::move(mr);
  WB_TRY(fk0, wr.need(p + "ffn.key.weight"));
  const int64_t F = fk0->shape.empty() ? 0 : fk0->shape[0];
  if (li == 0) info_.n_ffn = static_cast<int>(F);
  if (F != info_.n_ffn)
    return make_error(Errc::format, "{}: {}ffn.key.weight has {} rows, block 0 has {}", tf_.path, p, F, info_.n_ffn);
  WB_TRY(k, wr.mat(p + "ffn.key.weight", F, C));
  WB_TRY(v, wr.mat(p + "ffn.value.weight", C, F));
  WB_TRY(r, wr.mat(p + "ffn.receptance.weight", C, C));
  f.key = k, f.value = v, f.receptance = r;
  return f;
}

void CpuModel::rkv_ffn(const RkvFfn& f, float* x, int n, State* const* st, std::size_t off) {
  const size_t C = C_, nC = size_t(n) * C;
  std::vector<float> xf(nC), prev(nC), xk(nC), xr(nC);
  layer_norm(x, xf.data(), n, f.ln_w, f.ln_b);
  token_shift(xf.data(), n, st, off, prev.data());
  for (size_t c = 0; c < nC; ++c) {
    const float d = prev[c] - xf[c];
    xk[c] = xf[c] + d * f.shift_k[c % C];
    xr[c] = xf[c] + d * f.shift_r[c % C];
  }
  std::vector<float> h(size_t(n) * info_.n_ffn), r(nC), out(nC);
  mm(f.key, xk.data(), n, h.data());
  relu_square_inplace(h.data(), int64_t(h.size()));
  mm(f.value, h.data(), n, out.data());
  mm(f.receptance, xr.data(), n, r.data());
  for (size_t c = 0; c < nC; ++c) x[c] += sigmoid(r[c]) * out[c];
}

void CpuModel::rescale_after_block(int layer, float* x, int n) const {
  if (rescale_every_ <= 0 || (layer + 1) % rescale_every_ != 0) return;
  for (size_t c = 0; c < size_t(n) * C_; ++c) x[c] *= 0.5f;
}

Status CpuModel::read_meta_overrides() {
  if (auto it = tf_.meta.find("rescale_every_n_layers"); it != tf_.meta.end()) {
    char* end = nullptr;
    const long v = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v < 0 || v > 4096)
      return make_error(Errc::format, "{}: rescale_every_n_layers = '{}' is not a layer count", tf_.path, it->second);
    rescale_every_ = static_cast<int>(v);
  }
  if (auto it = tf_.meta.find("group_norm_eps"); it != tf_.meta.end()) {
    char* end = nullptr;
    const double v = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end != '\0' || !(v > 0 && v < 1))
      return make_error(Errc::format, "{}: group_norm_eps = '{}' is not a small positive number", tf_.path, it->second);
    info_.group_norm_eps = static_cast<float>(v);
  }
  return {};
}

void wkv5_step(float* S, const float* r, const float* k, const float* v, const float* w, const float* u, int H,
               int N, float* y) {
  for (int h = 0; h < H; ++h) {
    const int o = h * N;
    float* Sh = S + size_t(h) * N * N;
    for (int j = 0; j < N; ++j) y[o + j] = 0;
    for (int i = 0; i < N; ++i) {
      float* row = Sh + size_t(i) * N;
      const float ri = r[o + i], ki = k[o + i], wi = w[o + i], uki = u[o + i] * ki;
      for (int j = 0; j < N; ++j) {
        const float kv = ki * v[o + j];
        y[o + j] += ri * (uki * v[o + j] + row[j]);
        row[j] = row[j] * wi + kv;
      }
    }
  }
}

}  // namespace wb::cpu
