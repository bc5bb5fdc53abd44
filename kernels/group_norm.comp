// op: group norm of n_vec vectors of C floats in groups of G consecutive channels
// (RWKV's ln_x: one group per head): y = (x - mean_g) / sqrt(var_g + eps) * w + b.
// binding 0: float x[n_vec*C]
// binding 1: float y[n_vec*C]
// binding 2: float w[C]
// binding 3: float b[C]
// push constants: { uint C, G; float eps; uint pad; }  wb::vk::GroupNormPush
// grid: x = n_vec, y = C / G
#version 450
#extension GL_GOOGLE_include_directive : require
#include "reduce.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer W { float w[]; };
layout(std430, binding = 3) readonly buffer B { float b[]; };
layout(push_constant) uniform Push { uint C, G; float eps; uint pad; } pc;
void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint c0 = gl_WorkGroupID.y * pc.G;
  const uint o = gl_WorkGroupID.x * pc.C + c0;
  float s = 0.0;
  for (uint c = tid; c < pc.G; c += 64) s += x[o + c];
  const float mean = wg_sum(s) / float(pc.G);
  float q = 0.0;
  for (uint c = tid; c < pc.G; c += 64) { float d = x[o + c] - mean; q += d * d; }
  const float rstd = inversesqrt(wg_sum(q) / float(pc.G) + pc.eps);
  for (uint c = tid; c < pc.G; c += 64) y[o + c] = (x[o + c] - mean) * rstd * w[c0 + c] + b[c0 + c];
}
