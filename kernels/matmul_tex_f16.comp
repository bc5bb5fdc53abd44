// op: matmul with float16 weights for CPU devices. Everything else: matmul_tex_head.glsl.
// binding 0: usamplerBuffer W  RGBA32UI over the halves: 8 weights per texel, rows*cols/8 texels.
// (Unpacking in the shader measured faster on lavapipe than an RGBA16F view.)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "matmul_tex_head.glsl"
layout(binding = 0) uniform usamplerBuffer W;
void load_w8(uint row, int k8, out vec4 a, out vec4 b) {
  const uvec4 q = texelFetch(W, int(row * pc.cols / 8) + k8);
  a = vec4(unpackHalf2x16(q.x), unpackHalf2x16(q.y));
  b = vec4(unpackHalf2x16(q.z), unpackHalf2x16(q.w));
}
#include "matmul_tex_body.glsl"
