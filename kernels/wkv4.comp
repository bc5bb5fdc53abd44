// op: RWKV-4 WKV (numerically stable form with a running max exponent) for n_seq
// sequences of T tokens, one invocation per (sequence, channel), tokens in order:
//   ww = u + k;  p = max(pp, ww);  e1 = exp(pp - p);  e2 = exp(ww - p)
//   out = sigmoid(r) * (e1*aa + e2*v) / (e1*bb + e2)
//   ww = pp + w;  p = max(ww, k);  e1 = exp(ww - p);  e2 = exp(k - p)
//   aa = e1*aa + e2*v;  bb = e1*bb + e2;  pp = p
// binding 0: float k[n_vec*C]     1: float v[n_vec*C]     2: float r[n_vec*C]
// binding 3: float state[]        of seq s: aa at state[s*state_stride + state_off + c],
//                                 bb at + C, pp at + 2C
// binding 4: float p[2*C]         w (time_decay as -exp(decay)), u (time_first)
// binding 5: float out[n_vec*C]
// push constants: { uint C, T, state_off, state_stride; }  wb::vk::Wkv4Push
// grid: x = ceil(C / 64), y = n_seq
#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer K { float k[]; };
layout(std430, binding = 1) readonly buffer V { float v[]; };
layout(std430, binding = 2) readonly buffer R { float r[]; };
layout(std430, binding = 3) buffer S { float state[]; };
layout(std430, binding = 4) readonly buffer P { float p[]; };
layout(std430, binding = 5) writeonly buffer O { float outv[]; };
layout(push_constant) uniform Push { uint C, T, state_off, state_stride; } pc;
void main() {
  const uint c = gl_GlobalInvocationID.x, seq = gl_WorkGroupID.y, C = pc.C;
  if (c >= C) return;
  const uint so = seq * pc.state_stride + pc.state_off + c;
  float aa = state[so], bb = state[so + C], pp = state[so + 2 * C];
  const float w = p[c], u = p[C + c];
  for (uint t = 0; t < pc.T; ++t) {
    const uint i = (seq * pc.T + t) * C + c;
    const float kt = k[i], vt = v[i];
    float ww = u + kt;
    float q = max(pp, ww);
    float e1 = exp(pp - q), e2 = exp(ww - q);
    outv[i] = (e1 * aa + e2 * vt) / (e1 * bb + e2) / (1.0 + exp(-r[i]));
    ww = pp + w;
    q = max(ww, kt);
    e1 = exp(ww - q);
    e2 = exp(kt - q);
    aa = e1 * aa + e2 * vt;
    bb = e1 * bb + e2;
    pp = q;
  }
  state[so] = aa;
  state[so + C] = bb;
  state[so + 2 * C] = pp;
}
