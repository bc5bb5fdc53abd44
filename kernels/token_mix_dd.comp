// op: RWKV-6 data-dependent token-shift lerp for n_seq sequences of T tokens
// (n_vec = n_seq*T vectors), the mix offset being a per-channel constant plus a
// per-token LoRA output:
//   prev(v) = v % T == 0 ? state[seq].x_prev : x[v-1]
//   out[m][v][c] = x[v][c] + (prev(v)[c] - x[v][c]) * (mix[m][c] + delta[m][v][c])   for m < n_mix
// binding 0: float x[n_vec*C]
// binding 1: float state[]        x_prev of seq s at state[s*state_stride + state_off + c]
// binding 2: float mix[n_mix*C]
// binding 3: float delta[n_mix*n_vec*C]
// binding 4: float out[n_mix*n_vec*C]
// push constants: { uint C, n_vec, T, n_mix, state_off, state_stride; }  wb::vk::TokenMixPush
// grid: x = ceil(n_vec*C / 64)
#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer S { float state[]; };
layout(std430, binding = 2) readonly buffer M { float mix_[]; };
layout(std430, binding = 3) readonly buffer D { float delta[]; };
layout(std430, binding = 4) writeonly buffer O { float outv[]; };
layout(push_constant) uniform Push { uint C, n_vec, T, n_mix, state_off, state_stride; } pc;
void main() {
  const uint i = gl_GlobalInvocationID.x;
  if (i >= pc.n_vec * pc.C) return;
  const uint v = i / pc.C, c = i % pc.C;
  const uint t = v % pc.T, seq = v / pc.T;
  const float xv = x[i];
  const float pv = t == 0u ? state[seq * pc.state_stride + pc.state_off + c] : x[i - pc.C];
  const float d = pv - xv;
  const uint nC = pc.n_vec * pc.C;
  for (uint m = 0; m < pc.n_mix; ++m) outv[m * nC + i] = xv + d * (mix_[m * pc.C + c] + delta[m * nC + i]);
}
