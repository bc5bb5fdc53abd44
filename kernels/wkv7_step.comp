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
// A workgroup's work is wkv7_step_body.glsl's, which rwkv7_layer_*.comp shares.
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

#define WKV_P(i) p[i]
#define WKV_Q(i) q[i]
#include "wkv7_step_body.glsl"

void main() {
  const Wkv7Args A = Wkv7Args(pc.C, pc.N, pc.state_off, pc.state_stride, pc.eps, pc.layer0, pc.up_given, pc.d,
                              pc.lora_off);
  wkv7_head(A, gl_WorkGroupID.x, gl_WorkGroupID.y);
}
