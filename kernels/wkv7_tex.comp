// op: RWKV-7 WKV recurrence for CPU devices (lavapipe), head size 64, for n_seq
// sequences of T tokens: the state update of wkv7_sg.comp, raw output (wkv7_out.comp
// applies the output norm to `out` afterwards):
//   kk_n = kk / max(|kk|, 1e-12)                        (per head)
//   sa_i = sum_j S[i][j] * -kk_n[j]
//   S[i][j] = S[i][j] * w[j] + sa_i * kk_n[j] * a[j] + v[i] * k[j]
//   out_i = sum_j S[i][j] * r[j]
// Invocation i owns row i of its head's state as 16 vec4 values; every loop
// over j is unrolled (X16), so nothing is indexed at run time, and the
// j-vectors come as RGBA32F texels that all lanes of a head fetch alike. No
// shared memory and no barriers: llvmpipe turns shared/storage loads into
// per-lane scalar loops, dynamically indexed arrays into gathers, and barriers
// into coroutine switches, which made a shared-memory kernel slow there.
// binding 0: samplerBuffer r    1: w (decay)    2: k    3: kk    4: a
//            (RGBA32F views of n_vec*C floats; vector v, channel c is float v*C + c)
// binding 5: float v[n_vec*C]
// binding 6: float state[]      head h of seq s: state[s*state_stride + state_off + h*4096 + i*64 + j]
// binding 7: float out[n_vec*C] (written: the raw WKV output)
// push constants: { uint C, N, T, n_vec, state_off, state_stride; float eps; uint pad; }  wb::vk::Wkv7Push
//                 (N must be 64; eps unused here)
// grid: x = C / 64 (heads), y = n_seq.   C % 64 == 0.
#version 450
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer Rt;
layout(binding = 1) uniform samplerBuffer Wt;
layout(binding = 2) uniform samplerBuffer Kt;
layout(binding = 3) uniform samplerBuffer KKt;
layout(binding = 4) uniform samplerBuffer At;
layout(std430, binding = 5) readonly buffer V { float v[]; };
layout(std430, binding = 6) buffer S { float state[]; };
layout(std430, binding = 7) writeonly buffer O { float outv[]; };
layout(push_constant) uniform Push { uint C, N, T, n_vec, state_off, state_stride; float eps; uint pad; } pc;

#define X16(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)

void main() {
  const uint i = gl_LocalInvocationID.x;
  const uint h = gl_WorkGroupID.x, seq = gl_WorkGroupID.y;
  const uint C = pc.C;
  const uint so = seq * pc.state_stride + pc.state_off + h * 4096u + i * 64u;
  vec4 s[16];
#define LOAD_S(q) s[q] = vec4(state[so + 4 * q], state[so + 4 * q + 1], state[so + 4 * q + 2], state[so + 4 * q + 3]);
  X16(LOAD_S)

  for (uint t = 0; t < pc.T; ++t) {
    const uint base = (seq * pc.T + t) * C + h * 64u;
    const int b4 = int(base / 4u);
    const float vi = v[base + i];
    vec4 kk[16];
    float nrm = 0.0, sa = 0.0;
#define PASS1(q) kk[q] = texelFetch(KKt, b4 + q); nrm += dot(kk[q], kk[q]); sa -= dot(s[q], kk[q]);
    X16(PASS1)
    const float inv = 1.0 / max(sqrt(nrm), 1e-12);
    const float sab = sa * inv * inv;  // sa_i * kk_n[j] = (sa * inv) * (kk[j] * inv)
    float o = 0.0;
#define PASS2(q) s[q] = s[q] * texelFetch(Wt, b4 + q) + sab * (kk[q] * texelFetch(At, b4 + q)) + \
                        vi * texelFetch(Kt, b4 + q); \
                 o += dot(s[q], texelFetch(Rt, b4 + q));
    X16(PASS2)
    outv[base + i] = o;
  }
#define STORE_S(q) state[so + 4 * q] = s[q].x; state[so + 4 * q + 1] = s[q].y; \
                   state[so + 4 * q + 2] = s[q].z; state[so + 4 * q + 3] = s[q].w;
  X16(STORE_S)
}
