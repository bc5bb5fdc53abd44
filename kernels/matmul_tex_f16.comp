// op: matmul with float16 weights for CPU devices. Everything else: matmul_tex_head.glsl.
// binding 0: samplerBuffer W   RGBA16F (converted to float by the fetch), rows*cols/4 texels
#version 450
#extension GL_GOOGLE_include_directive : require
#include "matmul_tex_head.glsl"
layout(binding = 0) uniform samplerBuffer W;
vec4 load_w4(uint row, int k4) { return texelFetch(W, int(row * pc.cols / 4) + k4); }
#include "matmul_tex_body.glsl"
