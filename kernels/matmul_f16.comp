// op: matmul with float16 weights (IEEE half, unpacked in the shader: needs no
// 16-bit storage feature). Shapes, bindings, push constants (wb::vk::MatmulPush)
// and grid: matmul_head.glsl.
// binding 0: uvec4 w8[rows*cols/8]   row-major halves, 8 per uvec4
#version 450
#extension GL_GOOGLE_include_directive : require
#include "matmul_head.glsl"
layout(std430, binding = 0) readonly buffer W { uvec4 w8[]; };
void load_w(uint row, uint k, out vec4 a, out vec4 b) {
  uvec4 q = w8[(row * pc.cols + k) / 8];
  a = vec4(unpackHalf2x16(q.x), unpackHalf2x16(q.y));
  b = vec4(unpackHalf2x16(q.z), unpackHalf2x16(q.w));
}
#include "matmul_body.glsl"
