// op: one RWKV-7 decode step of the time mixing between the projections and
// the output projection, one workgroup per head of each state: in one dispatch
//   1. the LoRA up-projections  w = W2 lw, a = A2 la, g = G2 lg, vl = V2 lv
//      (lw = tanh(W1 x_w), la, lg = sigmoid(G1 x_g), lv: the down-projections before)
//   2. rwkv7_prep.comp's per-channel math (decay, in-context rate, kk, k, v_first)
//   3. wkv7_sg.comp's state update and raw output
//   4. wkv7_out.comp's group norm, bonus term and gate,
// where the unfused path needs four dependent dispatches (the up-projections,
// rwkv7_prep, wkv7_sg, wkv7_out). Decode on a GPU is bound by the number of
// dependent dispatches per token, not by bytes (README, "Vulkan backend").
// binding 0: float r[n_vec*C]   1: float k[n_vec*C]   2: float v[n_vec*C]   (the r/k/v projections)
// binding 3: vec4 lora[]        vector s of LoRA m (w, a, g, v) at float lora_off[m] + s*d[m], d[m] floats
// binding 4: float v_first[n_vec*C]   layer 0: written (v); later layers: read
// binding 5: float state[]      head h of seq s: state[s*state_stride + state_off + h*N*N + i*N + j]
// binding 6: float p[5*C]       w0, a0, v0, k_k, k_a
// binding 7: float q[3*C]       r_k (H*N), ln_x weight, ln_x bias
// binding 8..11: vec4 W2[C*d0/4], A2, G2, V2   row-major (out, in) f32 matrices
//                (layer 0: d3 = 0 and binding 11 any buffer)
// binding 12: float out[n_vec*C]   (written: the time mixing's output before the output projection)
// push constants: { uint C, N, n_vec, state_off, state_stride; float eps; uint layer0, up_given;
//                   uint d[4]; uint lora_off[4]; }  wb::vk::Wkv7StepPush
// up_given != 0: step 1 was done by separate matmuls; bindings 8..11 then hold
// the up-projections' outputs w, a, g, vl (n_vec*C floats each) and 3 is unused.
// grid: x = C / N (heads), y = n_vec.   N <= 64; d[m] and lora_off[m] multiples of 4.
// Invocation t works on channel / state row i = t / 4 of the head with a
// quarter q = t % 4 of its columns (j = q, q+4, ...): the 4 partial sums of a
// row meet in shared memory, so the kernel needs no subgroup shuffles.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "reduce.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer R { float r[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
layout(std430, binding = 3) readonly buffer L { vec4 lora4[]; };
layout(std430, binding = 4) buffer VF { float v_first[]; };
layout(std430, binding = 5) buffer S { float state[]; };
layout(std430, binding = 6) readonly buffer P { float p[]; };
layout(std430, binding = 7) readonly buffer Q { float q[]; };
layout(std430, binding = 8) readonly buffer W2 { vec4 w2[]; };
layout(std430, binding = 9) readonly buffer A2 { vec4 a2[]; };
layout(std430, binding = 10) readonly buffer G2 { vec4 g2[]; };
layout(std430, binding = 11) readonly buffer V2 { vec4 v2[]; };
layout(std430, binding = 12) writeonly buffer O { float outv[]; };
layout(push_constant) uniform Push {
  uint C, N, n_vec, state_off, state_stride; float eps; uint layer0, up_given;
  uvec4 d; uvec4 lora_off;
} pc;

shared vec4 quad_sh[256];
shared float r_sh[64], w_sh[64], k_sh[64], kk_sh[64], a_sh[64];

// Sum of the 4 invocations of one row (every invocation calls; same result in all 4).
vec4 quad_sum(vec4 x) {
  const uint t = gl_LocalInvocationID.x, b = t & ~3u;
  quad_sh[t] = x;
  barrier();
  const vec4 s = quad_sh[b] + quad_sh[b + 1u] + quad_sh[b + 2u] + quad_sh[b + 3u];
  barrier();
  return s;
}

float sigm(float x) { return 1.0 / (1.0 + exp(-x)); }

vec4 up_row(uint m, uint i) {
  return m == 0u ? w2[i] : m == 1u ? a2[i] : m == 2u ? g2[i] : v2[i];
}

// This invocation's quarter of row c of up-projection m times the LoRA vector of
// state seq: vec4 j4 = qr, qr+4, ...; 4 loads per pass, issued together (decode
// is latency-bound: the loads of a pass are in flight at once).
float up_dot(uint m, uint c, uint seq) {
  const uint d4 = pc.d[m] / 4u, ro = c * d4, lo = (pc.lora_off[m] + seq * pc.d[m]) / 4u;
  const uint qr = gl_LocalInvocationID.x & 3u;
  float s = 0.0;
  for (uint b = 0u; b < d4; b += 16u) {
    vec4 w[4], x[4];
    for (uint u = 0u; u < 4u; ++u) {
      const uint j4 = b + qr + 4u * u;
      const bool in_row = j4 < d4;
      w[u] = in_row ? up_row(m, ro + j4) : vec4(0.0);
      x[u] = in_row ? lora4[lo + j4] : vec4(0.0);
    }
    for (uint u = 0u; u < 4u; ++u) s += dot(w[u], x[u]);
  }
  return s;
}

void main() {
  const uint t = gl_LocalInvocationID.x, i = t >> 2, qr = t & 3u;
  const uint h = gl_WorkGroupID.x, seq = gl_WorkGroupID.y;
  const uint N = pc.N, C = pc.C;
  const bool live = i < N;
  const uint c = h * N + (live ? i : 0u), base = seq * C + c;

  // 1. Up-projections of channel c: the 4 invocations of row i split the inner dimension.
  vec4 part = vec4(0.0);
  if (live && pc.up_given != 0u) {
    const uint b4 = base >> 2, e = base & 3u;  // one invocation per row: the others add 0
    if (qr == 0u) part = vec4(w2[b4][e], a2[b4][e], g2[b4][e], pc.layer0 != 0u ? 0.0 : v2[b4][e]);
  } else if (live) {
    part.x = up_dot(0u, c, seq);
    part.y = up_dot(1u, c, seq);
    part.z = up_dot(2u, c, seq);
    part.w = up_dot(3u, c, seq);
  }
  const vec4 up = quad_sum(part);  // w, a, g, vl

  // 2. Per-channel preparation (rwkv7_prep.comp); every invocation of a row
  // computes the same values, the first one stores them.
  float wv = 0.0, av = 0.0, kv = 0.0, kkv = 0.0, vv = 0.0, rv = 0.0, gv = 0.0;
  if (live) {
    wv = exp(-0.606531 * sigm(p[c] + up.x));
    av = sigm(p[C + c] + up.y);
    const float k0 = k[base];
    kkv = k0 * p[3u * C + c];
    kv = k0 * (1.0 + (av - 1.0) * p[4u * C + c]);
    vv = v[base];
    if (pc.layer0 != 0u) {
      if (qr == 0u) v_first[base] = vv;
    } else {
      vv = vv + (v_first[base] - vv) * sigm(p[2u * C + c] + up.w);
    }
    rv = r[base];
    gv = up.z;
    if (qr == 0u) {
      r_sh[i] = rv;
      w_sh[i] = wv;
      k_sh[i] = kv;
      kk_sh[i] = kkv;
      a_sh[i] = av;
    }
  }
  // |kk| over the head and the bonus sum_j r_j k_j r_k_j (one invocation per channel counts).
  const bool first = live && qr == 0u;
  const vec2 sums = wg_sum2(first ? vec2(kkv * kkv, rv * kv * q[c]) : vec2(0.0));  // barriers publish *_sh
  const float inv = 1.0 / max(sqrt(sums.x), 1e-12);

  // 3. State row i: S[i][j] for j = qr, qr+4, ... (at most 16 per invocation).
  float st[16];
  const uint so = seq * pc.state_stride + pc.state_off + h * N * N + (live ? i : 0u) * N;
  float sa = 0.0;
  for (uint e = 0u; e < 16u; ++e) {
    const uint j = qr + 4u * e;
    st[e] = (live && j < N) ? state[so + j] : 0.0;
    if (j < N) sa -= st[e] * kk_sh[j];
  }
  sa = quad_sum(vec4(sa, 0.0, 0.0, 0.0)).x * inv;
  float o = 0.0;
  for (uint e = 0u; e < 16u; ++e) {
    const uint j = qr + 4u * e;
    if (j < N) {
      st[e] = st[e] * w_sh[j] + sa * kk_sh[j] * inv * a_sh[j] + vv * k_sh[j];
      o += st[e] * r_sh[j];
    }
  }
  o = quad_sum(vec4(o, 0.0, 0.0, 0.0)).x;
  if (live)
    for (uint e = 0u; e < 16u; ++e) {
      const uint j = qr + 4u * e;
      if (j < N) state[so + j] = st[e];
    }

  // 4. Group norm over the head, bonus and gate (wkv7_out.comp).
  const float mean = wg_sum(first ? o : 0.0) / float(N);
  const float dv = o - mean;
  const float var = wg_sum(first ? dv * dv : 0.0) / float(N);
  if (first) outv[base] = (dv * inversesqrt(var + pc.eps) * q[C + c] + q[2u * C + c] + sums.y * vv) * gv;
}
