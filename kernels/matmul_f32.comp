// op: matmul with float32 weights. Shapes, bindings, push constants (wb::vk::MatmulPush)
// and grid: matmul_head.glsl.
// binding 0: vec4 w4[rows*cols/4]   row-major float32
#version 450
#extension GL_GOOGLE_include_directive : require
#include "matmul_head.glsl"
#include "weights_f32.glsl"
#include "matmul_body.glsl"
