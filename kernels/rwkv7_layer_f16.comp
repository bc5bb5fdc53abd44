// op: one RWKV-7 decode layer in one dispatch, f16 weights (IEEE half, 8 per
// uvec4, unpacked in the shader). Shapes, bindings, push constants
// (wb::vk::Rwkv7LayerPush) and grid: rwkv7_layer_body.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#define WELEM uvec4
#define W8(B, i, a, b)                                                   \
  {                                                                      \
    const uvec4 q_ = B[i];                                               \
    a = vec4(unpackHalf2x16(q_.x), unpackHalf2x16(q_.y));                \
    b = vec4(unpackHalf2x16(q_.z), unpackHalf2x16(q_.w));                \
  }
#include "rwkv7_layer_body.glsl"
