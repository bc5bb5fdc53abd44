// op: matmul_f16.comp's y (+)= act(W . x), then, in the last workgroup to finish
// (an atomic counter over every workgroup of every part of W), layer norm and
// token-shift mix of the finished vectors, as ln_mix_shift.comp:
//   xln            = layer_norm(y[v]) * ln_w + ln_b       (y[v]: tail_C floats at tail_y_off + v*y_stride)
//   mixed[m][v][c] = xln + (state[v].x_prev - xln) * mix[m]     for m < n_mix
//   state[v].x_prev = xln
// Decode (n_vec <= 8) of the residual matmuls that a layer norm follows: one
// dependent dispatch instead of two. Shapes, grid and bindings 0..3: matmul_head.glsl.
// binding 0: uvec4 w8[rows*cols/8]   row-major halves, 8 per uvec4
// binding 4: uint counter[1]   0 between dispatches (the last workgroup resets it)
// binding 5: float ln_w[tail_C]   6: float ln_b[tail_C]   7: float mix[n_mix*tail_C]
// binding 8: float state[]        x_prev of vector v at state[v*state_stride + state_off + c]
// binding 9: float mixed[n_mix*n_vec*tail_C]
// push constants: MatmulPush, then { uint tail_groups, tail_y_off, tail_C, n_mix,
//   state_off, state_stride; float eps; }   wb::vk::MatmulTailPush
#version 450
#extension GL_GOOGLE_include_directive : require
#define LN_TAIL
#include "matmul_head.glsl"
#include "weights_f16.glsl"
#include "matmul_body.glsl"
