// Shared declarations of matmul_f32 / matmul_f16 / matmul_q8_0 (included, not compiled alone);
// each variant then defines binding 0 and load_w() and includes matmul_body.glsl.
//
// op: y[v][row] = act(sum_k W[row][k] * x[v][k])  (+ y[v][row] when accumulate)
//     for rows of one weight part and a batch of n_vec vectors (B states or T tokens).
// binding 0: W      weights of this part, rows x cols, row-major (dtype per variant)
// binding 1: float x[]  x[x_off + v*x_stride + k], k < cols (vec4 loads: offsets % 4 == 0)
// binding 2: float y[]  y[y_off + v*y_stride + row]
// binding 3 (q8_0 only): float scales[rows*cols/32]
// push constants: { uint rows, cols, n_vec, x_off, x_stride, y_off, y_stride, act, accumulate; }
//   mirrored by wb::vk::MatmulPush. act: 0 none, 1 tanh, 2 sigmoid, 3 relu^2.
// specialisation: constant 0 NB = vectors per workgroup, constant 1 ROWS = rows per workgroup,
// constant 2 WG = invocations per workgroup (64, 128 or 256).
// grid: x = ceil(rows / ROWS), y = ceil(n_vec / NB).
// Each thread walks k in steps of 8 (cols % 8 == 0; % 32 for q8_0), so one
// weight read serves NB vectors: mat-vec for decode, mat-mat for prefill.
// A wider workgroup walks a row in fewer dependent steps (a 2048-column row:
// 4 loads one after another at 64 invocations, 1 at 256).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

layout(local_size_x = 128, local_size_x_id = 2) in;  // constant 2 sets the size and WG below
layout(constant_id = 0) const uint NB = 1;
layout(constant_id = 1) const uint ROWS = 4;
layout(constant_id = 2) const uint WG = 128;

layout(std430, binding = 1) readonly buffer X { vec4 x4[]; };
#ifdef LN_TAIL
// matmul_tail_*: the last workgroup to finish also takes the layer norm and the
// token-shift mix of the finished vectors (see matmul_tail_f16.comp). Y is read
// there after other workgroups wrote it: coherent. Push constants mirrored by
// wb::vk::MatmulTailPush.
layout(std430, binding = 2) coherent buffer Y { float y[]; };
layout(std430, binding = 4) coherent buffer Counter { uint counter[]; };
layout(std430, binding = 5) readonly buffer LnW { float ln_w[]; };
layout(std430, binding = 6) readonly buffer LnB { float ln_b[]; };
layout(std430, binding = 7) readonly buffer Mix { float mix_[]; };
layout(std430, binding = 8) buffer St { float state[]; };
layout(std430, binding = 9) writeonly buffer Out { float mixed[]; };
layout(push_constant) uniform Push {
  uint rows, cols, n_vec, x_off, x_stride, y_off, y_stride, act, accumulate;
  uint tail_groups, tail_y_off, tail_C, n_mix, state_off, state_stride;
  float eps;
} pc;
#else
layout(std430, binding = 2) buffer Y { float y[]; };
layout(push_constant) uniform Push {
  uint rows, cols, n_vec, x_off, x_stride, y_off, y_stride, act, accumulate;
} pc;
#endif

