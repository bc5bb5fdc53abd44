// op: matmul with Q8_0 weights for CPU devices (codes and scales split at load,
// as for matmul_q8_0). Everything else: matmul_tex_head.glsl.
// binding 0: isamplerBuffer Q  RGBA8I, 4 int8 codes per texel, rows*cols/4 texels
// binding 3: samplerBuffer S   RGBA32F over the float scales: scale of block b is texel b/4, component b%4
#version 450
#extension GL_GOOGLE_include_directive : require
#include "matmul_tex_head.glsl"
layout(binding = 0) uniform isamplerBuffer Q;
layout(binding = 3) uniform samplerBuffer S;
void load_w8(uint row, int k8, out vec4 a, out vec4 b) {
  const int e4 = int(row * pc.cols / 4) + 2 * k8;  // texel index = element / 4
  const int blk = e4 / 8;
  const float d = texelFetch(S, blk / 4)[blk % 4];
  a = vec4(texelFetch(Q, e4)) * d;
  b = vec4(texelFetch(Q, e4 + 1)) * d;
}
#include "matmul_tex_body.glsl"
