#include "core/backend/vulkan/kernel_ref.hpp"

#include <algorithm>
#include <cmath>

namespace wb::vk::ref {
namespace {
double sigm(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Normalises x[o .. o+n) into y like layer_norm / group_norm.
void norm_range(std::span<const float> x, std::vector<float>& y, size_t o, size_t n, const float* w, const float* b,
                float eps) {
  double mean = 0, var = 0;
  for (size_t i = 0; i < n; ++i) mean += x[o + i];
  mean /= static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) var += (x[o + i] - mean) * (x[o + i] - mean);
  var /= static_cast<double>(n);
  const double rstd = 1.0 / std::sqrt(var + eps);
  for (size_t i = 0; i < n; ++i) y[o + i] = static_cast<float>((x[o + i] - mean) * rstd * w[i] + b[i]);
}
}  // namespace

std::vector<float> matmul(std::span<const float> W, uint32_t rows, uint32_t cols, std::span<const float> x,
                          uint32_t n_vec, Act act) {
  std::vector<float> y(size_t{n_vec} * rows);
  for (uint32_t v = 0; v < n_vec; ++v)
    for (uint32_t r = 0; r < rows; ++r) {
      double s = 0;
      for (uint32_t k = 0; k < cols; ++k) s += double{W[size_t{r} * cols + k]} * x[size_t{v} * cols + k];
      if (act == Act::tanh) s = std::tanh(s);
      else if (act == Act::sigmoid) s = sigm(s);
      else if (act == Act::relu_sq) s = s > 0 ? s * s : 0.0;
      y[size_t{v} * rows + r] = static_cast<float>(s);
    }
  return y;
}

std::vector<float> layer_norm(std::span<const float> x, std::span<const float> w, std::span<const float> b,
                              uint32_t C, float eps) {
  std::vector<float> y(x.size());
  for (size_t o = 0; o < x.size(); o += C) norm_range(x, y, o, C, w.data(), b.data(), eps);
  return y;
}

std::vector<float> group_norm(std::span<const float> x, std::span<const float> w, std::span<const float> b,
                              uint32_t C, uint32_t G, float eps) {
  std::vector<float> y(x.size());
  for (size_t o = 0; o < x.size(); o += G) {
    size_t c0 = o % C;
    norm_range(x, y, o, G, w.data() + c0, b.data() + c0, eps);
  }
  return y;
}

std::vector<float> ln_mix_shift(std::span<const float> x, std::vector<float>& state, std::span<const float> w,
                                std::span<const float> b, std::span<const float> mix, const LnMixShiftPush& p) {
  const std::vector<float> xl = layer_norm(x, w, b, p.C, p.eps);
  auto out = token_mix(xl, state, mix, {p.C, p.n_vec, 1, p.n_mix, p.state_off, p.state_stride});
  for (uint32_t v = 0; v < p.n_vec; ++v)
    for (uint32_t c = 0; c < p.C; ++c) state[size_t{v} * p.state_stride + p.state_off + c] = xl[size_t{v} * p.C + c];
  return out;
}

std::vector<float> token_mix(std::span<const float> x, std::span<const float> state, std::span<const float> mix,
                             const TokenMixPush& p) {
  std::vector<float> out(size_t{p.n_mix} * p.n_vec * p.C);
  for (uint32_t v = 0; v < p.n_vec; ++v)
    for (uint32_t c = 0; c < p.C; ++c) {
      const size_t i = size_t{v} * p.C + c;
      const float prev = v % p.T == 0 ? state[size_t{v / p.T} * p.state_stride + p.state_off + c] : x[i - p.C];
      for (uint32_t m = 0; m < p.n_mix; ++m)
        out[size_t{m} * p.n_vec * p.C + i] = x[i] + (prev - x[i]) * mix[size_t{m} * p.C + c];
    }
  return out;
}

std::vector<uint32_t> read_sum(std::span<const uint32_t> data, uint32_t groups) {
  std::vector<uint32_t> partial(groups, 0);
  const size_t G = size_t{groups} * 256;
  for (size_t i = 0; i < data.size() / 4; ++i)
    partial[(i % G) / 256] += data[4 * i] + data[4 * i + 1] + data[4 * i + 2] + data[4 * i + 3];
  return partial;
}

void copy_unless(std::span<const uint32_t> src, uint32_t src_off, std::vector<uint32_t>& dst, uint32_t dst_off,
                 uint32_t n, uint32_t flag) {
  if (flag != 0) return;
  for (uint32_t i = 0; i < n; ++i) dst[dst_off + i] = src[src_off + i];
}

std::vector<float> eltwise(std::span<const float> a, std::span<const float> b, EltOp op,
                           std::span<const float> y0) {
  std::vector<float> y(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    double r = 0;
    switch (op) {
      case EltOp::add: r = double{a[i]} + b[i]; break;
      case EltOp::mul: r = double{a[i]} * b[i]; break;
      case EltOp::sigmoid: r = sigm(a[i]); break;
      case EltOp::tanh: r = std::tanh(double{a[i]}); break;
      case EltOp::relu_sq: r = a[i] > 0 ? double{a[i]} * a[i] : 0.0; break;
      case EltOp::mul_sigmoid: r = a[i] * sigm(b[i]); break;
      case EltOp::add_sigmoid_mul: r = y0[i] + sigm(a[i]) * b[i]; break;
      case EltOp::half: r = 0.5 * a[i]; break;
    }
    y[i] = static_cast<float>(r);
  }
  return y;
}

void rwkv7_prep(Rwkv7Vectors& io, std::span<const float> vl, std::vector<float>& v_first,
                std::span<const float> p, uint32_t C, bool layer0) {
  io.kk.assign(io.k.size(), 0.0f);
  for (size_t i = 0; i < io.k.size(); ++i) {
    const size_t c = i % C;
    io.w[i] = static_cast<float>(std::exp(-0.606531 * sigm(double{p[c]} + io.w[i])));
    const double a = sigm(double{p[C + c]} + io.a[i]);
    io.a[i] = static_cast<float>(a);
    const double k = io.k[i];
    io.kk[i] = static_cast<float>(k * p[3 * C + c]);
    io.k[i] = static_cast<float>(k * (1.0 + (a - 1.0) * p[4 * C + c]));
    if (layer0) v_first[i] = io.v[i];
    else io.v[i] = static_cast<float>(io.v[i] + (double{v_first[i]} - io.v[i]) * sigm(double{p[2 * C + c]} + vl[i]));
  }
}

std::vector<float> wkv7(const Rwkv7Vectors& in, std::vector<float>& state, std::span<const float> p,
                        const Wkv7Push& pc, uint32_t n_seq) {
  const uint32_t C = pc.C, N = pc.N, H = C / N;
  std::vector<float> out(size_t{pc.n_vec} * C);
  std::vector<double> kkn(N), o(N);
  for (uint32_t s = 0; s < n_seq; ++s)
    for (uint32_t h = 0; h < H; ++h) {
      float* S = state.data() + size_t{s} * pc.state_stride + pc.state_off + size_t{h} * N * N;
      for (uint32_t t = 0; t < pc.T; ++t) {
        const size_t base = (size_t{s} * pc.T + t) * C + size_t{h} * N;
        double nrm = 0, bonus = 0;
        for (uint32_t j = 0; j < N; ++j) {
          nrm += double{in.kk[base + j]} * in.kk[base + j];
          bonus += double{in.r[base + j]} * in.k[base + j] * p[h * N + j];
        }
        nrm = std::max(std::sqrt(nrm), 1e-12);
        for (uint32_t j = 0; j < N; ++j) kkn[j] = in.kk[base + j] / nrm;
        for (uint32_t i = 0; i < N; ++i) {
          double sa = 0;
          for (uint32_t j = 0; j < N; ++j) sa -= S[i * N + j] * kkn[j];
          double acc = 0;
          for (uint32_t j = 0; j < N; ++j) {
            double v = S[i * N + j] * double{in.w[base + j]} + sa * kkn[j] * in.a[base + j] +
                       double{in.v[base + i]} * in.k[base + j];
            S[i * N + j] = static_cast<float>(v);
            acc += v * in.r[base + j];
          }
          o[i] = acc;
        }
        double mean = 0, var = 0;
        for (uint32_t i = 0; i < N; ++i) mean += o[i];
        mean /= N;
        for (uint32_t i = 0; i < N; ++i) var += (o[i] - mean) * (o[i] - mean);
        var /= N;
        const double rstd = 1.0 / std::sqrt(var + pc.eps);
        for (uint32_t i = 0; i < N; ++i) {
          const double y = (o[i] - mean) * rstd * p[C + h * N + i] + p[2 * C + h * N + i] + bonus * in.v[base + i];
          out[base + i] = static_cast<float>(y * in.g[base + i]);
        }
      }
    }
  return out;
}

std::vector<float> wkv7_step(Rwkv7Vectors& io, std::span<const float> lora, const std::vector<float> (&up)[4],
                             std::vector<float>& v_first, std::vector<float>& state, std::span<const float> p,
                             std::span<const float> q, const Wkv7StepPush& pc) {
  const uint32_t C = pc.C, n = pc.n_vec;
  std::vector<float> proj[4];
  for (int m = 0; m < 4; ++m) {
    const uint32_t d = pc.d[m];
    if (d == 0) {
      proj[m].assign(size_t{n} * C, 0.0f);
      continue;
    }
    std::vector<float> x(size_t{n} * d);
    for (uint32_t s = 0; s < n; ++s)
      std::copy_n(lora.begin() + pc.lora_off[m] + size_t{s} * d, d, x.begin() + size_t{s} * d);
    proj[m] = matmul(up[m], C, d, x, n, Act::none);
  }
  io.w = proj[0];
  io.a = proj[1];
  io.g = proj[2];
  rwkv7_prep(io, proj[3], v_first, p, C, pc.layer0 != 0);
  const Wkv7Push wp{C, pc.N, 1, n, pc.state_off, pc.state_stride, pc.eps, 0};
  return wkv7(io, state, q, wp, n);
}

std::vector<float> token_mix_dd(std::span<const float> x, std::span<const float> state, std::span<const float> mix,
                                std::span<const float> delta, const TokenMixPush& p) {
  const size_t nC = size_t{p.n_vec} * p.C;
  std::vector<float> out(size_t{p.n_mix} * nC);
  for (uint32_t v = 0; v < p.n_vec; ++v)
    for (uint32_t c = 0; c < p.C; ++c) {
      const size_t i = size_t{v} * p.C + c;
      const double prev = v % p.T == 0 ? state[size_t{v / p.T} * p.state_stride + p.state_off + c] : x[i - p.C];
      for (uint32_t m = 0; m < p.n_mix; ++m)
        out[m * nC + i] = static_cast<float>(x[i] + (prev - x[i]) * (double{mix[size_t{m} * p.C + c]} + delta[m * nC + i]));
    }
  return out;
}

std::vector<float> wkv4(std::span<const float> k, std::span<const float> v, std::span<const float> r,
                        std::vector<float>& state, std::span<const float> params, const Wkv4Push& p,
                        uint32_t n_seq) {
  const uint32_t C = p.C;
  std::vector<float> out(size_t{n_seq} * p.T * C);
  for (uint32_t s = 0; s < n_seq; ++s)
    for (uint32_t c = 0; c < C; ++c) {
      float* st = state.data() + size_t{s} * p.state_stride + p.state_off + c;
      double aa = st[0], bb = st[C], pp = st[2 * C];
      const double w = params[c], u = params[C + c];
      for (uint32_t t = 0; t < p.T; ++t) {
        const size_t i = (size_t{s} * p.T + t) * C + c;
        double ww = u + k[i], q = std::max(pp, ww);
        double e1 = std::exp(pp - q), e2 = std::exp(ww - q);
        out[i] = static_cast<float>(sigm(r[i]) * (e1 * aa + e2 * v[i]) / (e1 * bb + e2));
        ww = pp + w;
        q = std::max(ww, double{k[i]});
        e1 = std::exp(ww - q);
        e2 = std::exp(k[i] - q);
        aa = e1 * aa + e2 * v[i];
        bb = e1 * bb + e2;
        pp = q;
      }
      st[0] = static_cast<float>(aa), st[C] = static_cast<float>(bb), st[2 * C] = static_cast<float>(pp);
    }
  return out;
}

std::vector<float> wkv5(const Wkv5Vectors& in, std::vector<float>& state, std::span<const float> p,
                        const Wkv5Push& pc, uint32_t n_seq) {
  const uint32_t C = pc.C, N = pc.N, H = C / N;
  std::vector<float> out(size_t{n_seq} * pc.T * C);
  std::vector<double> y(N), w(N);
  for (uint32_t s = 0; s < n_seq; ++s)
    for (uint32_t h = 0; h < H; ++h) {
      float* S = state.data() + size_t{s} * pc.state_stride + pc.state_off + size_t{h} * N * N;
      for (uint32_t t = 0; t < pc.T; ++t) {
        const size_t base = (size_t{s} * pc.T + t) * C + size_t{h} * N;
        for (uint32_t i = 0; i < N; ++i) {
          const double d = p[h * N + i];
          w[i] = (pc.mode & kWkv5DataDecay) ? std::exp(-std::exp(d + in.wd[base + i])) : d;
        }
        for (uint32_t j = 0; j < N; ++j) {
          double acc = 0;
          for (uint32_t i = 0; i < N; ++i) {
            const double kv = double{in.k[base + i]} * in.v[base + j];
            float& sij = S[i * N + j];
            acc += in.r[base + i] * (p[C + h * N + i] * kv + sij);
            sij = static_cast<float>(sij * w[i] + kv);
          }
          y[j] = acc;
        }
        double mean = 0, var = 0;
        for (uint32_t j = 0; j < N; ++j) mean += y[j];
        mean /= N;
        for (uint32_t j = 0; j < N; ++j) var += (y[j] - mean) * (y[j] - mean);
        var /= N;
        const double rstd = 1.0 / std::sqrt(var + pc.eps);
        for (uint32_t j = 0; j < N; ++j) {
          double o = (y[j] - mean) * rstd * p[2 * C + h * N + j] + p[3 * C + h * N + j];
          if (pc.mode & kWkv5Gate) o *= in.g[base + j] * sigm(in.g[base + j]);
          out[base + j] = static_cast<float>(o);
        }
      }
    }
  return out;
}

}  // namespace wb::vk::ref
