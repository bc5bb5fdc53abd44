// op: single-token steps (decode of n_vec states), layer norm and token-shift
// mix folded into the matmul that reads them:
//   xln[v]  = layer_norm(x[v]) * ln_w + ln_b
//   xm[v]   = xln[v] + (state[v].x_prev - xln[v]) * mix
//   y[v][row] = act(sum_k W[row][k] * xm[v][k])   (+ y[v][row] when accumulate)
// ln_mix_shift.comp's work, without its dispatch: on a GPU a decode step pays per
// dependent dispatch. Each workgroup takes the statistics of its vectors itself
// (x is C floats, read from cache by all but the first). The shift state is
// read, not advanced: with write_xln, row block 0 writes xln for the caller to
// copy into the shift slots after every matmul reading them.
// binding 0: W as in matmul_q8_0.comp
// binding 1: vec4 x[]          x[v] at x_off + v*x_stride, cols floats (the residual stream)
// binding 2: float y[]         y[y_off + v*y_stride + row]
// binding 3: float scales[rows*cols/32] (Q8_0)
// binding 4: vec4 state[]      x_prev of state v at float v*state_stride + state_off + k
//                              (state_off, state_stride % 4 == 0)
// binding 5: vec4 ln_w[cols/4] binding 6: vec4 ln_b[cols/4]
// binding 7: vec4 mix[]        this matmul's mix vector at mix_off (mix_off % 4 == 0)
// binding 8: vec4 xln_out[n_vec*cols/4]   written when write_xln != 0 (row block 0)
// push constants: { uint rows, cols, n_vec, x_off, x_stride, y_off, y_stride, act, accumulate,
//   state_off, state_stride, mix_off, write_xln; float eps; uint pad0, pad1; }  wb::vk::MatmulLnPush
// specialisation, grid: as matmul_head.glsl (NB vectors, ROWS rows per workgroup).
#version 450
#extension GL_GOOGLE_include_directive : require
#define LN_INPUT 1
#include "matmul_head.glsl"
#include "weights_q8_0.glsl"
#include "matmul_body.glsl"
