// One RWKV-7 decode step of one head of one state (included, not compiled
// alone): the work of wkv7_step.comp's workgroups (see its header for the
// math), also done by rwkv7_layer_*.comp inside its persistent workgroups.
// The includer declares, by these names, the buffers
//   float r[], k[], v[]   vec4 lora4[]   float v_first[], state[]   float outv[]
//   vec4 w2[], a2[], g2[], v2[]
// and defines WKV_P(i) / WKV_Q(i): element i of the prep parameters (w0, a0,
// v0, k_k, k_a: 5*C) and of r_k, ln_x weight, ln_x bias (3*C). With
// Wkv7Args.up_given the up-projections' outputs are read as WKV_GIVEN(m, b4, e)
// (component e of vec4 b4 of output m; by default w2..v2 hold them). Needs
// reduce.glsl and a workgroup of 256 invocations.

#ifndef WKV_GIVEN
#define WKV_GIVEN(m, b4, e) ((m) == 0u ? w2[b4][e] : (m) == 1u ? a2[b4][e] : (m) == 2u ? g2[b4][e] : v2[b4][e])
#endif

struct Wkv7Args {
  uint C, N, state_off, state_stride;
  float eps;
  uint layer0, up_given;
  uvec4 d, lora_off;
};

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
float up_dot(const Wkv7Args A, uint m, uint c, uint seq) {
  const uint d4 = A.d[m] / 4u, ro = c * d4, lo = (A.lora_off[m] + seq * A.d[m]) / 4u;
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

// Head h of state seq. Every invocation of the workgroup calls it (barriers).
void wkv7_head(const Wkv7Args A, uint h, uint seq) {
  const uint t = gl_LocalInvocationID.x, i = t >> 2, qr = t & 3u;
  const uint N = A.N, C = A.C;
  const bool live = i < N;
  const uint c = h * N + (live ? i : 0u), base = seq * C + c;

  // 1. Up-projections of channel c: the 4 invocations of row i split the inner dimension.
  vec4 part = vec4(0.0);
  if (live && A.up_given != 0u) {
    const uint b4 = base >> 2, e = base & 3u;  // one invocation per row: the others add 0
    if (qr == 0u) part = vec4(WKV_GIVEN(0u, b4, e), WKV_GIVEN(1u, b4, e), WKV_GIVEN(2u, b4, e),
                             A.layer0 != 0u ? 0.0 : WKV_GIVEN(3u, b4, e));
  } else if (live) {
    part.x = up_dot(A, 0u, c, seq);
    part.y = up_dot(A, 1u, c, seq);
    part.z = up_dot(A, 2u, c, seq);
    part.w = up_dot(A, 3u, c, seq);
  }
  const vec4 up = quad_sum(part);  // w, a, g, vl

  // 2. Per-channel preparation (rwkv7_prep.comp); every invocation of a row
  // computes the same values, the first one stores them.
  float wv = 0.0, av = 0.0, kv = 0.0, kkv = 0.0, vv = 0.0, rv = 0.0, gv = 0.0;
  if (live) {
    wv = exp(-0.606531 * sigm(WKV_P(c) + up.x));
    av = sigm(WKV_P(C + c) + up.y);
    const float k0 = k[base];
    kkv = k0 * WKV_P(3u * C + c);
    kv = k0 * (1.0 + (av - 1.0) * WKV_P(4u * C + c));
    vv = v[base];
    if (A.layer0 != 0u) {
      if (qr == 0u) v_first[base] = vv;
    } else {
      vv = vv + (v_first[base] - vv) * sigm(WKV_P(2u * C + c) + up.w);
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
  const vec2 sums = wg_sum2(first ? vec2(kkv * kkv, rv * kv * WKV_Q(c)) : vec2(0.0));  // barriers publish *_sh
  const float inv = 1.0 / max(sqrt(sums.x), 1e-12);

  // 3. State row i: S[i][j] for j = qr, qr+4, ... (at most 16 per invocation).
  float st[16];
  const uint so = seq * A.state_stride + A.state_off + h * N * N + (live ? i : 0u) * N;
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
  if (first) outv[base] = (dv * inversesqrt(var + A.eps) * WKV_Q(C + c) + WKV_Q(2u * C + c) + sums.y * vv) * gv;
}
