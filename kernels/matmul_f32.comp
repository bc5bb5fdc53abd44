// op: matmul with float32 weights. Shapes, bindings, push constants (wb::vk::MatmulPush)
// and grid: matmul_head.glsl.
// binding 0: vec4 w4[rows*cols/4]   row-major float32
#version 450
#extension GL_GOOGLE_include_directive : require
#include "matmul_head.glsl"
layout(std430, binding = 0) readonly buffer W { vec4 w4[]; };
void load_w(uint row, uint k, out vec4 a, out vec4 b) {
  uint i = (row * pc.cols + k) / 4;
  a = w4[i];
  b = w4[i + 1];
}
#include "matmul_body.glsl"
