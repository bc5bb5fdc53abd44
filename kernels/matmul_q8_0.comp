// op: matmul with Q8_0 weights (blocks of 32 int8 codes along a row, one scale
// per block; value = code * scale). The ggml block layout (34 bytes, unaligned)
// is split at load time into int8 codes and float scales.
// Shapes, bindings, push constants (wb::vk::MatmulPush) and grid: matmul_head.glsl.
// binding 0: uvec2 q[rows*cols/8]    int8 codes, 4 per uint, little-endian
// binding 3: float scales[rows*cols/32]
#version 450
#extension GL_GOOGLE_include_directive : require
#include "matmul_head.glsl"
#include "weights_q8_0.glsl"
#include "matmul_body.glsl"
