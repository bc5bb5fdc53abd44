// Shared declarations of matmul_tex_f32 / matmul_tex_f16 / matmul_tex_q8_0 (included,
// not compiled alone): the matmul for CPU devices (Mesa's lavapipe). Same op,
// push constants (wb::vk::MatmulPush) and results as matmul_head.glsl, but each
// invocation computes a tile of R rows x NB vectors with no cross-lane work, and
// every read is a texel fetch: llvmpipe compiles storage-buffer loads into a
// per-lane scalar loop, while texel fetches become vectorised gathers.
//
// op: y[v][row] = act(sum_k W[row][k] * x[v][k])  (+ y[v][row] when accumulate)
// binding 0: W texels (variant), row-major
// binding 1: samplerBuffer x   RGBA32F, x[x_off + v*x_stride + k] is texel (x_off + v*x_stride)/4 + k/4
// binding 2: float y[]         y[y_off + v*y_stride + row]
// binding 3 (q8_0 only): samplerBuffer scales  RGBA32F view, one float per block of 32 (see variant)
// push constants: { uint rows, cols, n_vec, x_off, x_stride, y_off, y_stride, act, accumulate; }
// specialisation: constant 0 NB = vectors per invocation, constant 1 R = rows per invocation,
// constant 2 = local_size_x (LX).
// grid: x = ceil(rows / (LX*R)), y = ceil(n_vec / NB).  cols % 8 == 0 (32 for q8_0).
// Each weight fetch serves NB vectors and each x fetch R rows, so larger tiles
// mean fewer texel fetches per multiply-add, the cost that dominates on
// llvmpipe (Ops::matmul picks the tile; LX = 8, one SIMD row of lanes, keeps
// the rows per workgroup small enough that few are computed twice at the tail).
layout(local_size_x_id = 2) in;
layout(constant_id = 0) const uint NB = 1;
layout(constant_id = 1) const uint R = 1;
layout(binding = 1) uniform samplerBuffer X;
#define X_AT(i) texelFetch(X, i)
layout(std430, binding = 2) buffer Y { float y[]; };
layout(push_constant) uniform Push {
  uint rows, cols, n_vec, x_off, x_stride, y_off, y_stride, act, accumulate;
} pc;
