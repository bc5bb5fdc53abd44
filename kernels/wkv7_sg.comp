// op: RWKV-7 WKV recurrence for GPUs, for n_seq sequences of T tokens: the
// state update of wkv7_tex.comp (same math, raw output; wkv7_out.comp applies
// the output norm to `out` afterwards):
//   kk_n = kk / max(|kk|, 1e-12)                        (per head)
//   sa_i = sum_j S[i][j] * -kk_n[j]
//   S[i][j] = S[i][j] * w[j] + sa_i * kk_n[j] * a[j] + v[i] * k[j]
//   out_i = sum_j S[i][j] * r[j]
// One subgroup per state row i: lane l holds S[i][j] for j = l, l + SG, ...
// (at most 8 values, so subgroups of 8 or more lanes cover N <= 64), and every
// sum over j is a subgroupAdd. A token step has no barrier and no shared
// memory, and C rows run as C subgroups instead of C / N workgroups stepping
// in lock-step, which kept most of a GPU idle during prefill. The inputs of
// token t+1 are fetched before token t is computed, to hide their latency.
// binding 0: float r[n_vec*C]   1: w (decay)   2: k   3: kk   4: a   5: v
// binding 6: float state[]      head h of seq s: state[s*state_stride + state_off + h*N*N + i*N + j]
// binding 7: float out[n_vec*C] (written: the raw WKV output)
// push constants: { uint C, N, T, n_vec, state_off, state_stride; float eps; uint rows; }  wb::vk::Wkv7Push
//                 rows (the pad field) = rows per workgroup = 256 / the device's subgroup size;
//                 subgroups past `rows` (a device running smaller subgroups) idle.
// grid: x = ceil(C / rows), y = n_seq.   N <= 64, subgroup size >= 8.
#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer R { float r[]; };
layout(std430, binding = 1) readonly buffer Wd { float w[]; };
layout(std430, binding = 2) readonly buffer K { float k[]; };
layout(std430, binding = 3) readonly buffer KK { float kk[]; };
layout(std430, binding = 4) readonly buffer A { float a[]; };
layout(std430, binding = 5) readonly buffer V { float v[]; };
layout(std430, binding = 6) buffer S { float state[]; };
layout(std430, binding = 7) writeonly buffer O { float outv[]; };
layout(push_constant) uniform Push { uint C, N, T, n_vec, state_off, state_stride; float eps; uint rows; } pc;

const uint Q = 8;  // state values per lane at most (N <= 64, subgroup >= 8)

struct Token {
  float r[Q], w[Q], k[Q], kk[Q], a[Q];
  float v;
};

Token fetch(uint base, uint i, uint lane, uint sg) {
  Token x;
  for (uint q = 0; q < Q; ++q) {
    const uint j = lane + q * sg;
    const bool live = j < pc.N;
    x.r[q] = live ? r[base + j] : 0.0;
    x.w[q] = live ? w[base + j] : 0.0;
    x.k[q] = live ? k[base + j] : 0.0;
    x.kk[q] = live ? kk[base + j] : 0.0;
    x.a[q] = live ? a[base + j] : 0.0;
  }
  x.v = v[base + i];
  return x;
}

void main() {
  if (gl_SubgroupID >= pc.rows) return;
  const uint row = gl_WorkGroupID.x * pc.rows + gl_SubgroupID;
  if (row >= pc.C) return;  // whole subgroups leave together
  const uint lane = gl_SubgroupInvocationID, sg = gl_SubgroupSize;
  const uint N = pc.N, C = pc.C, seq = gl_WorkGroupID.y;
  const uint h = row / N, i = row % N;
  const uint so = seq * pc.state_stride + pc.state_off + h * N * N + i * N;
  float s[Q];
  for (uint q = 0; q < Q; ++q) {
    const uint j = lane + q * sg;
    s[q] = j < N ? state[so + j] : 0.0;
  }

  Token cur = fetch(seq * pc.T * C + h * N, i, lane, sg);
  for (uint t = 0; t < pc.T; ++t) {
    const uint base = (seq * pc.T + t) * C + h * N;
    Token nxt = cur;
    if (t + 1 < pc.T) nxt = fetch(base + C, i, lane, sg);
    float ss = 0.0;
    for (uint q = 0; q < Q; ++q) ss += cur.kk[q] * cur.kk[q];
    const float inv = 1.0 / max(sqrt(subgroupAdd(ss)), 1e-12);
    float sa = 0.0;
    for (uint q = 0; q < Q; ++q) sa -= s[q] * cur.kk[q];
    sa = subgroupAdd(sa) * inv;
    float o = 0.0;
    for (uint q = 0; q < Q; ++q) {
      s[q] = s[q] * cur.w[q] + sa * cur.kk[q] * inv * cur.a[q] + cur.v * cur.k[q];
      o += s[q] * cur.r[q];
    }
    o = subgroupAdd(o);
    if (subgroupElect()) outv[base + i] = o;
    cur = nxt;
  }
  for (uint q = 0; q < Q; ++q) {
    const uint j = lane + q * sg;
    if (j < N) state[so + j] = s[q];
  }
}
