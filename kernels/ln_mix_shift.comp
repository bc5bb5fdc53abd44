// op: for single-token steps (T == 1, n_vec = n_seq), layer norm, token-shift
// mix and shift-state update in one pass per vector:
//   xln       = layer_norm(x[v]) * w + b
//   out[m][v] = xln + (state[v].x_prev - xln) * mix[m]      for m < n_mix
//   state[v].x_prev = xln
// the work of layer_norm.comp, token_mix.comp and the shift copy for T == 1
// in one dispatch: decode on a GPU pays per dependent dispatch, not per byte.
// binding 0: vec4 x[n_vec*C/4]
// binding 1: float state[]        x_prev of seq v at state[v*state_stride + state_off + c]
// binding 2: vec4 w[C/4]          binding 3: vec4 b[C/4]
// binding 4: vec4 mix[n_mix*C/4]
// binding 5: vec4 out[n_mix*n_vec*C/4]
// push constants: { uint C, n_vec, n_mix, state_off, state_stride; float eps; }  wb::vk::LnMixShiftPush
// specialisation: local size x (constant 0): 64 on CPU devices, 256 on GPUs,
//   where one small workgroup walking C channels three times was the slowest
//   step of a decode layer (9.4 us on an H200 at C = 768).
// grid: x = n_vec (one workgroup per vector).   C % 4 == 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "reduce.glsl"
layout(local_size_x = 64, local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { vec4 x[]; };
layout(std430, binding = 1) buffer S { float state[]; };
layout(std430, binding = 2) readonly buffer W { vec4 w[]; };
layout(std430, binding = 3) readonly buffer B { vec4 b[]; };
layout(std430, binding = 4) readonly buffer M { vec4 mix_[]; };
layout(std430, binding = 5) writeonly buffer O { vec4 outv[]; };
layout(push_constant) uniform Push { uint C, n_vec, n_mix, state_off, state_stride; float eps; } pc;
void main() {
  const uint tid = gl_LocalInvocationID.x, C4 = pc.C / 4u, v = gl_WorkGroupID.x, WG = gl_WorkGroupSize.x;
  const uint xo = v * C4, n4 = pc.n_vec * C4;
  vec4 s = vec4(0.0);
  for (uint c = tid; c < C4; c += WG) s += x[xo + c];
  const float mean = wg_sum(s.x + s.y + s.z + s.w) / float(pc.C);
  vec4 q = vec4(0.0);
  for (uint c = tid; c < C4; c += WG) { const vec4 d = x[xo + c] - mean; q += d * d; }
  const float rstd = inversesqrt(wg_sum(q.x + q.y + q.z + q.w) / float(pc.C) + pc.eps);
  for (uint c = tid; c < C4; c += WG) {
    const vec4 xl = (x[xo + c] - mean) * rstd * w[c] + b[c];
    const uint so = v * pc.state_stride + pc.state_off + 4u * c;  // any alignment: scalar accesses
    const vec4 d = vec4(state[so], state[so + 1u], state[so + 2u], state[so + 3u]) - xl;
    for (uint m = 0; m < pc.n_mix; ++m) outv[m * n4 + xo + c] = xl + d * mix_[m * C4 + c];
    state[so] = xl.x; state[so + 1u] = xl.y; state[so + 2u] = xl.z; state[so + 3u] = xl.w;
  }
}
