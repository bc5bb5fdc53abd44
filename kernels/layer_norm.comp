// op: layer norm of n_vec vectors of C floats: y = (x - mean) / sqrt(var + eps) * w + b.
// binding 0: float x[]   x[x_off + v*x_stride + c]
// binding 1: float y[]   y[y_off + v*y_stride + c]   (may be the same buffer as x)
// binding 2: float w[C]
// binding 3: float b[C]
// push constants: { uint C, x_off, x_stride, y_off, y_stride; float eps; }  wb::vk::LayerNormPush
// grid: x = n_vec (one workgroup per vector)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "reduce.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer W { float w[]; };
layout(std430, binding = 3) readonly buffer B { float b[]; };
layout(push_constant) uniform Push { uint C, x_off, x_stride, y_off, y_stride; float eps; } pc;
void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint xo = pc.x_off + gl_WorkGroupID.x * pc.x_stride;
  const uint yo = pc.y_off + gl_WorkGroupID.x * pc.y_stride;
  float s = 0.0;
  for (uint c = tid; c < pc.C; c += 64) s += x[xo + c];
  const float mean = wg_sum(s) / float(pc.C);
  float q = 0.0;
  for (uint c = tid; c < pc.C; c += 64) { float d = x[xo + c] - mean; q += d * d; }
  const float rstd = inversesqrt(wg_sum(q) / float(pc.C) + pc.eps);
  for (uint c = tid; c < pc.C; c += 64) y[yo + c] = (x[xo + c] - mean) * rstd * w[c] + b[c];
}
