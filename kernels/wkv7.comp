// op: RWKV-7 time mixing core for n_seq sequences of T tokens, one workgroup per
// (sequence, head), thread i owning row i (value index) of the head's N x N state:
//   kk_n = kk / max(|kk|, 1e-12)                        (per head)
//   sa_i = sum_j S[i][j] * -kk_n[j]
//   S[i][j] = S[i][j] * w[j] + sa_i * kk_n[j] * a[j] + v[i] * k[j]
//   o_i  = sum_j S[i][j] * r[j]
//   out  = (groupnorm_head(o) * ln_w + ln_b + (sum_j r[j]*k[j]*r_k[j]) * v) * g
// binding 0: float r[n_vec*C]   1: float w[n_vec*C] (decay)   2: float k[n_vec*C]
// binding 3: float v[n_vec*C]   4: float kk[n_vec*C]          5: float a[n_vec*C]
// binding 6: float g[n_vec*C]
// binding 7: float state[]      head h of seq s: state[s*state_stride + state_off + h*N*N + i*N + j]
// binding 8: float p[3*C]       r_k (H*N), ln_x weight (C), ln_x bias (C)
// binding 9: float out[n_vec*C]
// push constants: { uint C, N, T, n_vec, state_off, state_stride; float eps; uint pad; }  wb::vk::Wkv7Push
// grid: x = C / N (heads), y = n_seq.   N <= 64.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "reduce.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer R { float r[]; };
layout(std430, binding = 1) readonly buffer Wd { float w[]; };
layout(std430, binding = 2) readonly buffer K { float k[]; };
layout(std430, binding = 3) readonly buffer V { float v[]; };
layout(std430, binding = 4) readonly buffer KK { float kk[]; };
layout(std430, binding = 5) readonly buffer A { float a[]; };
layout(std430, binding = 6) readonly buffer G { float g[]; };
layout(std430, binding = 7) buffer S { float state[]; };
layout(std430, binding = 8) readonly buffer P { float p[]; };
layout(std430, binding = 9) writeonly buffer O { float outv[]; };
layout(push_constant) uniform Push { uint C, N, T, n_vec, state_off, state_stride; float eps; uint pad; } pc;

shared float s_r[64], s_w[64], s_k[64], s_kk[64], s_ab[64];

void main() {
  const uint i = gl_LocalInvocationID.x;
  const uint h = gl_WorkGroupID.x, seq = gl_WorkGroupID.y;
  const uint N = pc.N, C = pc.C;
  const bool live = i < N;
  const uint so = seq * pc.state_stride + pc.state_off + h * N * N + i * N;
  float S[64];
  for (uint j = 0; j < 64; ++j) S[j] = (live && j < N) ? state[so + j] : 0.0;
  const float rk = live ? p[h * N + i] : 0.0;
  const float lw = live ? p[C + h * N + i] : 0.0;
  const float lb = live ? p[2 * C + h * N + i] : 0.0;

  for (uint t = 0; t < pc.T; ++t) {
    const uint base = (seq * pc.T + t) * C + h * N;
    float ri = 0.0, ki = 0.0, kki = 0.0, vi = 0.0, ai = 0.0, wi = 0.0;
    if (live) {
      ri = r[base + i]; ki = k[base + i]; kki = kk[base + i];
      vi = v[base + i]; ai = a[base + i]; wi = w[base + i];
    }
    const vec2 sums = wg_sum2(vec2(kki * kki, ri * ki * rk));
    const float kkn = kki / max(sqrt(sums.x), 1e-12);
    s_r[i] = ri; s_w[i] = wi; s_k[i] = ki; s_kk[i] = kkn; s_ab[i] = kkn * ai;
    barrier();
    float sa = 0.0;
    for (uint j = 0; j < N; ++j) sa -= S[j] * s_kk[j];
    float o = 0.0;
    for (uint j = 0; j < N; ++j) {
      const float sj = S[j] * s_w[j] + sa * s_ab[j] + vi * s_k[j];
      S[j] = sj;
      o += sj * s_r[j];
    }
    const float mean = wg_sum(live ? o : 0.0) / float(N);
    const float d = live ? o - mean : 0.0;
    const float var = wg_sum(d * d) / float(N);
    if (live) {
      const float y = d * inversesqrt(var + pc.eps) * lw + lb + sums.y * vi;
      outv[base + i] = y * g[base + i];
    }
    // wg_sum's trailing barrier also keeps the shared vectors until everyone is done.
  }
  if (live)
    for (uint j = 0; j < N; ++j) state[so + j] = S[j];
}
