// op: matmul with Q8_0 weights (blocks of 32 int8 codes along a row, one scale
// per block; value = code * scale). The ggml block layout (34 bytes, unaligned)
// is split at load time into int8 codes and float scales.
// Shapes, bindings, push constants (wb::vk::MatmulPush) and grid: matmul_head.glsl.
// binding 0: uvec2 q[rows*cols/8]    int8 codes, 4 per uint, little-endian
// binding 3: float scales[rows*cols/32]
#version 450
#extension GL_GOOGLE_include_directive : require
#include "matmul_head.glsl"
layout(std430, binding = 0) readonly buffer W { uvec2 q8[]; };
layout(std430, binding = 3) readonly buffer S { float scales[]; };
vec4 codes(uint u) {
  int v = int(u);
  return vec4(bitfieldExtract(v, 0, 8), bitfieldExtract(v, 8, 8), bitfieldExtract(v, 16, 8), bitfieldExtract(v, 24, 8));
}
void load_w(uint row, uint k, out vec4 a, out vec4 b) {
  uint e = row * pc.cols + k;
  uvec2 q = q8[e / 8];
  float d = scales[e / 32];
  a = codes(q.x) * d;
  b = codes(q.y) * d;
}
#include "matmul_body.glsl"
