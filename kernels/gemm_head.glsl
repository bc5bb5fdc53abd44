// Shared declarations of gemm_f32 / gemm_f16 / gemm_q8_0 (included, not compiled alone);
// each variant then includes its weights_*.glsl (binding 0, load_w) and gemm_body.glsl.
//
// op: y[v][row] = act(sum_k W[row][k] * x[v][k])  (+ y[v][row] when accumulate)
//     for rows of one weight part and n_vec vectors (the T tokens of a prefill chunk).
// binding 1: float x[]  x[x_off + v*x_stride + k], k < cols (vec4 loads: offsets % 4 == 0)
// binding 2: float y[]  y[y_off + v*y_stride + row]
// push constants: { uint rows, cols, n_vec, x_off, x_stride, y_off, y_stride, act, accumulate; }
//   mirrored by wb::vk::MatmulPush (the same as matmul_*). act: 0 none, 1 tanh, 2 sigmoid, 3 relu^2.
// grid: x = ceil(rows / 64), y = ceil(n_vec / 64); 256 invocations per workgroup.
layout(local_size_x = 256) in;

layout(std430, binding = 1) readonly buffer X { vec4 x4[]; };
layout(std430, binding = 2) buffer Y { float y[]; };
layout(push_constant) uniform Push {
  uint rows, cols, n_vec, x_off, x_stride, y_off, y_stride, act, accumulate;
} pc;
