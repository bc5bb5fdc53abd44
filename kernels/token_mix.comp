// op: token-shift lerp for n_seq sequences of T tokens (n_vec = n_seq*T vectors):
//   prev(v) = v % T == 0 ? state[seq].x_prev : x[v-1]
//   out[m][v][c] = x[v][c] + (prev(v)[c] - x[v][c]) * mix[m][c]      for m < n_mix
// One invocation per 4 channels (vec4 loads and stores: llvmpipe runs each
// storage access as a loop over the SIMD lanes, so 4 floats per access cost
// about what 1 did).
// binding 0: vec4 x[n_vec*C/4]
// binding 1: float state[]        x_prev of seq s at state[s*state_stride + state_off + c]
// binding 2: vec4 mix[n_mix*C/4]
// binding 3: vec4 out[n_mix*n_vec*C/4]
// push constants: { uint C, n_vec, T, n_mix, state_off, state_stride; }  wb::vk::TokenMixPush
// grid: x = ceil(n_vec*C/4 / 64).   C % 4 == 0.
#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { vec4 x[]; };
layout(std430, binding = 1) readonly buffer S { float state[]; };
layout(std430, binding = 2) readonly buffer M { vec4 mix_[]; };
layout(std430, binding = 3) writeonly buffer O { vec4 outv[]; };
layout(push_constant) uniform Push { uint C, n_vec, T, n_mix, state_off, state_stride; } pc;
void main() {
  const uint i = gl_GlobalInvocationID.x, C4 = pc.C / 4u, n4 = pc.n_vec * C4;
  if (i >= n4) return;
  const uint v = i / C4, c4 = i % C4;
  const uint t = v % pc.T, seq = v / pc.T;
  const vec4 xv = x[i];
  vec4 pv;
  if (t == 0u) {
    const uint so = seq * pc.state_stride + pc.state_off + 4u * c4;  // any alignment: scalar reads
    pv = vec4(state[so], state[so + 1u], state[so + 2u], state[so + 3u]);
  } else {
    pv = x[i - C4];
  }
  const vec4 d = pv - xv;
  for (uint m = 0; m < pc.n_mix; ++m) outv[m * n4 + i] = xv + d * mix_[m * C4 + c4];
}
