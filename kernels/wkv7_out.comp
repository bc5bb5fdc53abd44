// op: the output of the RWKV-7 time mixing after wkv7_tex.comp or wkv7_sg.comp,
// for each of n_vec vectors and each head of N channels (in place on o):
//   o <- (groupnorm_head(o) * ln_w + ln_b + (sum_j r[j]*k[j]*r_k[j]) * v) * g
// (groupnorm over the head with eps).
// binding 0: float o[n_vec*C] (read, then written)
// binding 1: float r[n_vec*C]   2: float k[n_vec*C]   3: float v[n_vec*C]   4: float g[n_vec*C]
// binding 5: float p[3*C]       r_k (H*N), ln_x weight (C), ln_x bias (C)
// push constants: { uint C, N, T, n_vec, state_off, state_stride; float eps; uint pad; }  wb::vk::Wkv7Push
//                 (C, N and eps used)
// grid: x = C / N (heads), y = n_vec.   N <= 64.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "reduce.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer R { float r[]; };
layout(std430, binding = 2) readonly buffer K { float k[]; };
layout(std430, binding = 3) readonly buffer V { float v[]; };
layout(std430, binding = 4) readonly buffer G { float g[]; };
layout(std430, binding = 5) readonly buffer P { float p[]; };
layout(push_constant) uniform Push { uint C, N, T, n_vec, state_off, state_stride; float eps; uint pad; } pc;

void main() {
  const uint i = gl_LocalInvocationID.x;
  const uint h = gl_WorkGroupID.x, vec = gl_WorkGroupID.y;
  const uint N = pc.N, C = pc.C;
  const bool live = i < N;
  const uint base = vec * C + h * N;
  float oi = 0.0, bonus = 0.0, vi = 0.0;
  if (live) {
    oi = o[base + i];
    vi = v[base + i];
    bonus = r[base + i] * k[base + i] * p[h * N + i];
  }
  const vec2 sums = wg_sum2(vec2(oi, bonus));
  const float d = live ? oi - sums.x / float(N) : 0.0;
  const float var = wg_sum(d * d) / float(N);
  if (live)
    o[base + i] = (d * inversesqrt(var + pc.eps) * p[C + h * N + i] + p[2 * C + h * N + i] + sums.y * vi) *
                  g[base + i];
}
