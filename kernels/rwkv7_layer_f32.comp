// op: one RWKV-7 decode layer in one dispatch, f32 weights (8 per two vec4).
// Shapes, bindings, push constants (wb::vk::Rwkv7LayerPush) and grid:
// rwkv7_layer_body.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
#define WELEM vec4
#define W8(B, i, a, b)       \
  {                          \
    a = B[2u * (i)];         \
    b = B[2u * (i) + 1u];    \
  }
#include "rwkv7_layer_body.glsl"
