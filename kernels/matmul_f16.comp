// op: matmul with float16 weights (IEEE half, unpacked in the shader: needs no
// 16-bit storage feature). Shapes, bindings, push constants (wb::vk::MatmulPush)
// and grid: matmul_head.glsl.
// binding 0: uvec4 w8[rows*cols/8]   row-major halves, 8 per uvec4
#version 450
#extension GL_GOOGLE_include_directive : require
#include "matmul_head.glsl"
#include "weights_f16.glsl"
#include "matmul_body.glsl"
