// op: matmul with float32 weights for CPU devices. Everything else: matmul_tex_head.glsl.
// binding 0: samplerBuffer W   RGBA32F, rows*cols/4 texels
#version 450
#extension GL_GOOGLE_include_directive : require
#include "matmul_tex_head.glsl"
layout(binding = 0) uniform samplerBuffer W;
void load_w8(uint row, int k8, out vec4 a, out vec4 b) {
  const int t = int(row * pc.cols / 4) + 2 * k8;
  a = texelFetch(W, t);
  b = texelFetch(W, t + 1);
}
#include "matmul_tex_body.glsl"
