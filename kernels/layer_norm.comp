// op: layer norm of n_vec vectors of C floats: y = (x - mean) / sqrt(var + eps) * w + b.
// Each invocation handles 4 consecutive channels at a time (vec4 accesses: llvmpipe
// loops over the SIMD lanes once per storage access, whatever its width).
// binding 0: vec4 x[]   float x[x_off + v*x_stride + c] is component c%4 of x[(x_off + v*x_stride + c)/4]
// binding 1: vec4 y[]   y[y_off + v*y_stride + c] likewise   (may be the same buffer as x)
// binding 2: vec4 w[C/4]
// binding 3: vec4 b[C/4]
// push constants: { uint C, x_off, x_stride, y_off, y_stride; float eps; }  wb::vk::LayerNormPush
//                 (C and every offset and stride a multiple of 4)
// grid: x = n_vec (one workgroup per vector)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "reduce.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { vec4 x[]; };
layout(std430, binding = 1) writeonly buffer Y { vec4 y[]; };
layout(std430, binding = 2) readonly buffer W { vec4 w[]; };
layout(std430, binding = 3) readonly buffer B { vec4 b[]; };
layout(push_constant) uniform Push { uint C, x_off, x_stride, y_off, y_stride; float eps; } pc;
void main() {
  const uint tid = gl_LocalInvocationID.x, C4 = pc.C / 4u;
  const uint xo = (pc.x_off + gl_WorkGroupID.x * pc.x_stride) / 4u;
  const uint yo = (pc.y_off + gl_WorkGroupID.x * pc.y_stride) / 4u;
  vec4 s = vec4(0.0);
  for (uint c = tid; c < C4; c += 64) s += x[xo + c];
  const float mean = wg_sum(s.x + s.y + s.z + s.w) / float(pc.C);
  vec4 q = vec4(0.0);
  for (uint c = tid; c < C4; c += 64) { const vec4 d = x[xo + c] - mean; q += d * d; }
  const float rstd = inversesqrt(wg_sum(q.x + q.y + q.z + q.w) / float(pc.C) + pc.eps);
  for (uint c = tid; c < C4; c += 64) y[yo + c] = (x[xo + c] - mean) * rstd * w[c] + b[c];
}
