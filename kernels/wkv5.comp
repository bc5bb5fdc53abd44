// op: RWKV-5 / RWKV-6 time mixing core for n_seq sequences of T tokens, one
// workgroup per (head, sequence), thread j owning column j (value index) of the
// head's N x N state S[i][j] (i the key index):
//   w_i = mode & 1 ? exp(-exp(p.decay[c] + wd[c]))   (RWKV-6: data-dependent decay)
//                  : p.decay[c]                       (RWKV-5: exp(-exp(w)) given)
//   y_j = sum_i r_i (u_i k_i v_j + S[i][j]);   S[i][j] = S[i][j] w_i + k_i v_j
//   out = groupnorm_head(y) * ln_w + ln_b,  then * silu(g) when mode & 2 (5.2 / 6 gate)
// binding 0: float r[n_vec*C]   1: float k[n_vec*C]   2: float v[n_vec*C]
// binding 3: float wd[n_vec*C]  decay LoRA output (mode & 1; else bind any buffer)
// binding 4: float g[n_vec*C]   gate projection (mode & 2; else bind any buffer)
// binding 5: float state[]      head h of seq s: state[s*state_stride + state_off + h*N*N + i*N + j]
// binding 6: float p[4*C]       decay, bonus u (time_first / time_faaaa), ln_x weight, ln_x bias
// binding 7: float out[n_vec*C]
// push constants: { uint C, N, T, state_off, state_stride; float eps; uint mode, pad; }  wb::vk::Wkv5Push
// grid: x = C / N (heads), y = n_seq.   N <= 64.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "reduce.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer R { float r[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
layout(std430, binding = 3) readonly buffer WD { float wd[]; };
layout(std430, binding = 4) readonly buffer G { float g[]; };
layout(std430, binding = 5) buffer S { float state[]; };
layout(std430, binding = 6) readonly buffer P { float p[]; };
layout(std430, binding = 7) writeonly buffer O { float outv[]; };
layout(push_constant) uniform Push { uint C, N, T, state_off, state_stride; float eps; uint mode, pad; } pc;

shared float s_r[64], s_k[64], s_w[64], s_u[64];

void main() {
  const uint j = gl_LocalInvocationID.x;
  const uint h = gl_WorkGroupID.x, seq = gl_WorkGroupID.y;
  const uint N = pc.N, C = pc.C;
  const bool live = j < N;
  const uint so = seq * pc.state_stride + pc.state_off + h * N * N + j;
  float S[64];
  for (uint i = 0; i < 64; ++i) S[i] = (live && i < N) ? state[so + i * N] : 0.0;
  const uint c = h * N + j;
  const float decay = live ? p[c] : 0.0;
  const float lw = live ? p[2 * C + c] : 0.0;
  const float lb = live ? p[3 * C + c] : 0.0;
  if (live) s_u[j] = p[C + c];

  for (uint t = 0; t < pc.T; ++t) {
    const uint base = (seq * pc.T + t) * C + h * N;
    if (live) {
      s_r[j] = r[base + j];
      s_k[j] = k[base + j];
      s_w[j] = (pc.mode & 1u) != 0u ? exp(-exp(decay + wd[base + j])) : decay;
    }
    barrier();
    const float vj = live ? v[base + j] : 0.0;
    float y = 0.0;
    for (uint i = 0; i < N; ++i) {
      const float kv = s_k[i] * vj;
      y += s_r[i] * (s_u[i] * kv + S[i]);
      S[i] = S[i] * s_w[i] + kv;
    }
    const float mean = wg_sum(live ? y : 0.0) / float(N);
    const float d = live ? y - mean : 0.0;
    const float var = wg_sum(d * d) / float(N);
    if (live) {
      float o = d * inversesqrt(var + pc.eps) * lw + lb;
      if ((pc.mode & 2u) != 0u) {
        const float gv = g[base + j];
        o *= gv / (1.0 + exp(-gv));
      }
      outv[base + j] = o;
    }
    // wg_sum's trailing barrier keeps the shared vectors until everyone is done.
  }
  if (live)
    for (uint i = 0; i < N; ++i) state[so + i * N] = S[i];
}
